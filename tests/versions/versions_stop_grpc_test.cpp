// StopGRPCServiceOnDefrag on real servers (3.5's --experimental- flag, 3.6 and 3.7's feature
// gate): each member says NOT_SERVING while it defragments; a run still succeeds member by
// member, and clients of the members not being defragmented see no error.
#include <catch2/catch.hpp>

#include <iostream>
#include <map>

#include "bench/load_generator.h"
#include "support/cluster_checks.h"
#include "support/files.h"

using namespace edd::test;
using namespace std::chrono_literals;

TEST_CASE(
    "a run on a cluster with StopGRPCServiceOnDefrag succeeds and other members' clients "
    "see no error",
    "[versions]") {
  const std::string version = GENERATE("3.5", "3.6", "3.7");
  ClusterOptions o;
  o.etcd_version = version;
  o.extra_flags = stop_grpc_service_on_defrag_flags(etcd_release(version));
  REQUIRE_FALSE(o.extra_flags.empty());
  auto cluster = EtcdCluster::start(o);
  cluster->write_and_fragment(24LL * 1024 * 1024);
  const int leader = leader_index(*cluster);

  edd::bench::PutLoadOptions load_options;
  load_options.endpoints = cluster->client_endpoints();
  load_options.threads_per_member = 1;
  load_options.puts_per_second_per_member = 50;
  load_options.call_timeout = 5s;
  edd::bench::PutLoad load(load_options);
  load.start();
  std::this_thread::sleep_for(500ms);
  const CommandResult run =
      run_edd({"defrag", "--endpoints", cluster->client_endpoint(0), "--cluster"});
  std::this_thread::sleep_for(500ms);
  load.stop();
  INFO("etcd " << version << ":\n" << run.out << run.err);
  CHECK(run.exit_code == 0);
  const auto order = defrag_order_from_logs(*cluster);
  REQUIRE(order.size() == 3);
  CHECK(order.back() == leader);

  // Each member really stopped serving while it defragmented: etcd logs the status change.
  for (int i = 0; i < cluster->size(); ++i) {
    const std::string log = read_file(cluster->log_path(i));
    CHECK_THAT(log,
               Catch::Contains("grpc service status changed") && Catch::Contains("NOT_SERVING"));
  }

  // Each member's defrag window, from its own log.
  std::map<int, edd::bench::Window> windows;
  for (const auto& e : cluster->defrag_events()) {
    if (e.msg == "starting defragment") windows[e.member].begin_s = e.ts;
    if (e.msg == "finished defragment") windows[e.member].end_s = e.ts;
  }
  std::size_t total = 0, failed_own = 0, failed_other = 0;
  for (const auto& s : load.samples()) {
    ++total;
    if (s.ok) continue;
    (overlaps(s, windows[s.member]) ? failed_own : failed_other) += 1;
  }
  std::string errors;
  for (const auto& e : load.errors()) errors += e.message + "\n";
  INFO(total << " writes; failed on the member being defragmented: " << failed_own
             << "; elsewhere: " << failed_other << "\n"
             << errors);
  std::cout << "[versions] etcd " << version << " StopGRPCServiceOnDefrag: " << total << " writes, "
            << failed_own << " failed on the member being defragmented, " << failed_other
            << " elsewhere" << std::endl;
  CHECK(total > 100);
  CHECK(failed_other == 0);
}
