// Data helpers: fragmentation that defrag can reclaim, defrag events from the logs, digests.
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>

#include "harness/etcd_cluster.h"
#include "support/clocks.h"

using edd::test::ClusterOptions;
using edd::test::EtcdCluster;
using edd::test::wall_now_s;
using namespace std::chrono_literals;

TEST_CASE("harness write_and_fragment makes dbSize grow well beyond dbSizeInUse", "[harness]") {
  auto cluster = EtcdCluster::start(ClusterOptions{});
  auto start = std::chrono::steady_clock::now();
  auto result = cluster->write_and_fragment(30 << 20);
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(result.keys_written == 480);
  CHECK(result.keys_kept == 48);
  CHECK(took < 30);
  for (const auto& status : cluster->endpoint_status()) {
    INFO(status.endpoint << " dbSize " << status.db_size_bytes << " in use "
                         << status.db_size_in_use_bytes);
    std::cout << "write_and_fragment(30 MiB) took " << took << " s; " << status.endpoint
              << " dbSize " << status.db_size_bytes << " dbSizeInUse "
              << status.db_size_in_use_bytes << "\n";
    CHECK(status.db_size_bytes > 50'000'000);
    CHECK(status.db_size_bytes > 4 * status.db_size_in_use_bytes);
  }
  CHECK(cluster->digest().key_count == 48);
}

TEST_CASE("harness defrag_events sees an etcdctl defrag of one member", "[harness]") {
  auto cluster = EtcdCluster::start(ClusterOptions{});
  CHECK(cluster->defrag_events().empty());
  cluster->etcdctl_ok({"defrag"}, cluster->client_endpoint(1));
  auto events = cluster->defrag_events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].member == 1);
  CHECK(events[0].msg == "starting defragment");
  CHECK(events[1].member == 1);
  CHECK(events[1].msg == "finished defragment");
  CHECK(events[0].ts <= events[1].ts);
  CHECK(events[1].ts == Approx(wall_now_s()).margin(60));
}

TEST_CASE("harness digest (key count and checksum) is unchanged by a defrag of every member",
          "[harness]") {
  auto cluster = EtcdCluster::start(ClusterOptions{});
  auto result = cluster->write_and_fragment(4 << 20, "/data/", 4);
  cluster->etcdctl_ok({"put", "/empty-value", ""});
  auto before = cluster->digest();
  CHECK(before.key_count == static_cast<std::size_t>(result.keys_kept) + 1);
  for (int i = 0; i < cluster->size(); ++i)
    CHECK(cluster->digest(cluster->client_endpoint(i)) == before);

  cluster->etcdctl_ok({"defrag"});  // each member in turn
  CHECK(cluster->defrag_events().size() == 6);
  for (int i = 0; i < cluster->size(); ++i)
    CHECK(cluster->digest(cluster->client_endpoint(i)) == before);
  cluster->etcdctl_ok({"put", "/data/000001", "changed"});
  CHECK_FALSE(cluster->digest() == before);
}
