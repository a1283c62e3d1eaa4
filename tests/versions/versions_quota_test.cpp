// What each etcd version changes for `status`, on real servers of that version: where the quota
// comes from (3.6.4 reports dbSizeQuota 0 for an unset quota, etcd #20786) and the warning for a
// release with a known defragmentation bug.
#include <catch2/catch.hpp>

#include "support/cluster_checks.h"

using namespace edd::test;

namespace {

constexpr std::int64_t kEtcdDefaultQuota = 2LL * 1024 * 1024 * 1024;

ClusterOptions version(const std::string& v) {
  ClusterOptions o;  // no --quota-backend-bytes: etcd's default quota
  o.etcd_version = v;
  return o;
}

boost::json::array status_json(const EtcdCluster& cluster) {
  const CommandResult r = run_edd({"status", "--endpoints", cluster.endpoints_csv(), "-w", "json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return parse_json(r.out).as_array();
}

}  // namespace

TEST_CASE("etcd 3.6 with no quota flag reports etcd's default quota in Status", "[versions]") {
  auto cluster = EtcdCluster::start(version("3.6"));
  for (const auto& v : status_json(*cluster)) {
    const auto& m = v.as_object();
    INFO(boost::json::serialize(m));
    CHECK(m.at("dbQuota").to_number<std::int64_t>() == kEtcdDefaultQuota);
    CHECK(m.at("dbQuotaSource").as_string() == "status");
    CHECK(m.at("knownDefragBugs").as_array().empty());
  }
  const CommandResult table = run_edd({"status", "--endpoints", cluster->endpoints_csv()});
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, !Catch::Contains("WARNING"));
}

TEST_CASE(
    "etcd 3.6.4 with no quota flag reports 0: the quota comes from its metrics, and "
    "status warns of etcd#20653",
    "[versions]") {
  auto cluster = EtcdCluster::start(version("3.6.4"));
  REQUIRE(cluster->release().version() == "3.6.4");
  for (const auto& v : status_json(*cluster)) {
    const auto& m = v.as_object();
    INFO(boost::json::serialize(m));
    CHECK(m.at("version").as_string() == "3.6.4");
    CHECK(m.at("dbQuota").to_number<std::int64_t>() == kEtcdDefaultQuota);
    CHECK(m.at("dbQuotaSource").as_string() == "metrics");
    const auto& bugs = m.at("knownDefragBugs").as_array();
    REQUIRE(bugs.size() == 1);
    CHECK(bugs[0].at("issue").as_string() == "etcd#20653");
    CHECK(bugs[0].at("fixedIn").as_string() == "3.6.5");
  }
  const CommandResult table = run_edd({"status", "--endpoints", cluster->endpoints_csv()});
  INFO(table.out);
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("2.1 GB (metrics)"));
  CHECK_THAT(table.out, Catch::Contains("WARNING: etcd 3.6.4 has etcd#20653"));
  CHECK_THAT(table.out, Catch::Contains("fixed in 3.6.5: members " + cluster->client_endpoint(0)));
  // The CLI run warns too, and still does its job, as etcd-defrag would.
  const CommandResult run = run_edd({"defrag", "--endpoints", cluster->endpoints_csv()});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.out + run.err, Catch::Contains("WARNING: etcd 3.6.4 has etcd#20653"));
  CHECK(defrag_order_from_logs(*cluster).size() == 3);
}
