// The reclaim floor on a real cluster: a member over 80 % of its quota whose data is compact is
// left alone poll after poll (said once, exported), and defragmented as soon as it has something
// to give back; the defrag CLI applies a floor only when --min-reclaim is given.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/cluster_checks.h"
#include "support/daemon_process.h"
#include "support/edd_cli.h"
#include "support/metrics_text.h"

using namespace edd::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

constexpr std::int64_t kMiB = 1024 * 1024;
constexpr std::size_t kValueBytes = 512 * 1024;

std::string key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/data/%03d", i);
  return buf;
}

// Keys written once each, in rounds of 8 with a defrag of every member after each: big values
// leave free pages behind (4 of 512 KiB made a 4.2 MB file of 2.1 MB data), which a defrag
// gives back, so the file ends nearly all data, and never nears the quota on the way.
void write_compact(const EtcdCluster& cluster, int keys) {
  const std::string value(kValueBytes, 'd');
  for (int i = 0; i < keys; ++i) {
    const CommandResult r = cluster.etcdctl({"put", key(i)}, "", value);  // the value on stdin
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    if (i % 8 == 7 || i + 1 == keys) cluster.etcdctl_ok({"defrag"});
  }
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string sizes(const EtcdCluster& cluster) {
  std::string out;
  for (const auto& st : cluster.endpoint_status()) {
    out += st.endpoint + ": dbSize " + std::to_string(st.db_size_bytes) + ", in use " +
           std::to_string(st.db_size_in_use_bytes) + "; ";
  }
  return out;
}

}  // namespace

TEST_CASE(
    "daemons: a full but compact member is not defragmented for nothing, then is once it "
    "has space to give back",
    "[daemon][floor]") {
  constexpr std::int64_t kQuota = 40 * kMiB;
  auto cluster = EtcdCluster::start(cluster_options(kQuota));
  write_compact(*cluster, 68);                                         // 34 MiB: 85 % of the quota
  const std::size_t defrags_before = cluster->defrag_events().size();  // write_compact's
  const auto before = cluster->endpoint_status();
  INFO("before: " << sizes(*cluster));
  for (const auto& st : before) {
    REQUIRE(st.db_size_bytes > kQuota * 8 / 10);
    REQUIRE(st.db_size_bytes - st.db_size_in_use_bytes < 1 * kMiB);
  }

  DaemonSettings s;
  s.rule = "dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024";  // the daemon's default rule
  s.min_reclaim = "10%";                                        // 4.2 MB of the 40 MiB quota
  Daemons daemons;
  daemons.push_back(std::make_unique<DaemonProcess>(*cluster, 0, s));
  REQUIRE(lock_holder(daemons, 20s) == 0);
  REQUIRE(eventually(10s, [&] {
    return family_total(daemons, "etcd_defragd_member_reclaim_floor_blocked") == 3;
  }));
  std::this_thread::sleep_for(4s);  // four more polls at 1 s: still nothing may happen

  const std::string log = daemons[0]->log();
  INFO("daemon log:\n" << log);
  CHECK(cluster->defrag_events().size() == defrags_before);
  CHECK(family_total(daemons, "etcd_defragd_member_defrags_total", {R"(result="defragmented")"}) ==
        0);
  CHECK(family_total(daemons, "etcd_defragd_runs_total") == 0);
  CHECK(family_total(daemons, "etcd_defragd_member_rule_match") == 3);  // the rule still fires
  CHECK(family_total(daemons, "etcd_defragd_member_reclaim_floor_blocked") == 3);
  CHECK(family_total(daemons, "etcd_defragd_member_reclaim_floor_bytes") == 3 * 4'194'304);
  CHECK(count_of(log, "reclaim floor: the rule fires but not defragmenting") == 1);
  CHECK_THAT(log, Contains("under the reclaim floor 4.2 MB (min_reclaim 10%)"));
  CHECK(log.find("starting a run") == std::string::npos);
  CHECK_THAT(daemons[0]->get("/v1/status"), Contains(R"("reclaimFloorHoldsBack":true)"));

  // Half the data deleted and compacted away: 17 MiB of free pages on every member. Paused
  // meanwhile, so no run starts half way. A member's dbSizeInUse counts the compacted pages as
  // free only once it has committed another write (bbolt releases freed pages at a later write
  // transaction): on an idle cluster that takes a few writes, which a live cluster always has.
  { std::ofstream(daemons[0]->pause_file()) << "test\n"; }
  cluster->etcdctl_ok({"del", key(0), key(34)});
  cluster->etcdctl_ok({"compact",
                       std::to_string(current_revision(*cluster, cluster->client_endpoint(0))),
                       "--physical"});
  int tick = 0;
  const bool freed = eventually(20s, [&] {
    cluster->etcdctl_ok({"put", "/tick", std::to_string(++tick)});
    for (const auto& st : cluster->endpoint_status()) {
      if (st.db_size_bytes - st.db_size_in_use_bytes < 10 * kMiB) return false;
    }
    return true;
  });
  INFO("compacted: " << sizes(*cluster) << " after " << tick << " writes");
  REQUIRE(freed);
  std::filesystem::remove(daemons[0]->pause_file());
  const bool defragmented = eventually(30s, [&] {
    return family_total(daemons, "etcd_defragd_member_defrags_total",
                        {R"(result="defragmented")"}) == 3;
  });
  INFO("after: " << sizes(*cluster) << "\ndaemon log:\n" << daemons[0]->log());
  REQUIRE(defragmented);
  CHECK(cluster->defrag_events().size() == defrags_before + 6);  // started and finished, x3
  const auto after = cluster->endpoint_status();
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].db_size_bytes < before[i].db_size_bytes - 10 * kMiB);
  }
  CHECK_THAT(daemons[0]->log(), Contains("reclaim floor: no member is held back any more"));
  CHECK(eventually(
      5s, [&] { return family_total(daemons, "etcd_defragd_member_reclaim_floor_blocked") == 0; }));
}

TEST_CASE("defrag --min-reclaim skips a compact member that the plain defrag still defragments",
          "[floor]") {
  auto cluster = EtcdCluster::start(cluster_options());
  write_compact(*cluster, 4);
  const std::string ep = "--endpoints=" + cluster->client_endpoint(0);
  INFO("before: " << sizes(*cluster));
  const std::size_t defrags = cluster->defrag_events().size();  // write_compact's

  const auto status = run_edd({"status", ep, "--min-reclaim=1MiB", "-w", "json"});
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.out, Contains(R"("reclaimFloor":1048576,"reclaimFloorHoldsBack":true)"));

  const auto floored = run_edd({"defrag", ep, "--min-reclaim=1MiB"});
  INFO(floored.out << floored.err);
  CHECK(floored.exit_code == 0);
  CHECK_THAT(floored.out, Contains("Skipping endpoint"));
  CHECK_THAT(floored.out, Contains("under the reclaim floor 1.0 MB (min_reclaim 1.0 MB)"));
  CHECK(cluster->defrag_events().size() == defrags);

  const auto plain = run_edd({"defrag", ep});  // etcd-defrag's behaviour: no floor
  INFO(plain.out << plain.err);
  CHECK(plain.exit_code == 0);
  CHECK_THAT(plain.out, Contains("The defragmentation is successful."));
  CHECK(cluster->defrag_events().size() == defrags + 2);
}
