// etcd-defrag's own README examples, with only the binary name changed, on a real cluster.
#include <catch2/catch.hpp>

#include "support/cluster_checks.h"

using namespace edd::test;

namespace {

void check_reads_like_etcd_defrag(const CommandResult& r) {
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("Validating configuration."));
  CHECK_THAT(r.out, Catch::Contains("Performing health check."));
  CHECK_THAT(r.out, Catch::Contains("Getting members status"));
  CHECK_THAT(r.out, Catch::Contains("endpoints need to be defragmented: ["));
  CHECK_THAT(r.out, Catch::Contains("The defragmentation is successful."));
}

std::string http(const std::string& endpoint) { return "http://" + endpoint; }

}  // namespace

TEST_CASE("etcd-defrag's README commands work with only the binary name changed", "[defrag]") {
  auto cluster = EtcdCluster::start(cluster_options());
  const int leader = leader_index(*cluster);
  const int a = (leader + 1) % 3;
  const int b = (leader + 2) % 3;
  const std::string ep_a = http(cluster->client_endpoint(a));
  const std::string ep_b = http(cluster->client_endpoint(b));

  // Example 1: one endpoint; every member is health-checked, only that one is defragmented.
  const auto one = run_edd({"defrag", "--endpoints=" + ep_a});
  check_reads_like_etcd_defrag(one);
  CHECK_THAT(one.out, Catch::Contains("1 endpoints need to be defragmented: [" + ep_a + "]"));
  CHECK(defrag_order_from_logs(*cluster) == std::vector<int>{a});

  // Example 2: two endpoints.
  const auto two = run_edd({"defrag", "--endpoints=" + ep_a + "," + ep_b});
  check_reads_like_etcd_defrag(two);
  CHECK(defrag_order_from_logs(*cluster).size() == 3);

  // Example 3: the whole cluster from one endpoint, the leader last.
  const auto all = run_edd({"defrag", "--endpoints", ep_a, "--cluster"});
  check_reads_like_etcd_defrag(all);
  const auto order = defrag_order_from_logs(*cluster);
  REQUIRE(order.size() == 6);
  CHECK(order.back() == leader);

  // The rule examples: valid, and false on this small cluster, so nothing more is defragmented.
  for (const std::string rule :
       {"dbSize > dbQuota*80/100 || dbSize - dbSizeInUse > 200*1024*1024",
        "dbSize > dbQuota*80/100 && dbSize - dbSizeInUse > 200*1024*1024"}) {
    const auto r = run_edd({"defrag", "--endpoints", ep_a, "--cluster", "--defrag-rule=" + rule});
    check_reads_like_etcd_defrag(r);
    CHECK_THAT(r.out,
               Catch::Contains("Validating the defragmentation rule: " + rule + " ... valid"));
    CHECK(defrag_order_from_logs(*cluster).size() == 6);
  }
}
