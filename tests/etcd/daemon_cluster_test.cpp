// Three `etcd-defragd run` daemons, one per member of a real 3-member cluster.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "support/cluster_checks.h"
#include "support/daemon_process.h"
#include "support/files.h"
#include "support/metrics_text.h"

using namespace edd::test;
using namespace std::chrono_literals;

namespace {

const std::string kSuccessfulRuleRuns =
    R"(etcd_defragd_runs_total{result="success",trigger="rule"})";

}  // namespace

TEST_CASE("daemons: a fragmented cluster is defragmented once, by one daemon, leader last",
          "[daemon]") {
  auto cluster = EtcdCluster::start(cluster_options());
  DaemonSettings s;
  auto daemons = start_daemons(*cluster, s);
  const int actor = lock_holder(daemons, 20s);
  REQUIRE(actor >= 0);
  const int leader = leader_index(*cluster);

  cluster->write_and_fragment(24LL * 1024 * 1024);
  REQUIRE(eventually(30s, [&] { return cluster->defrag_events().size() >= 6; }));
  std::this_thread::sleep_for(4s);  // several more polls: nothing else may happen

  const auto order = defrag_order_from_logs(*cluster);
  REQUIRE(order.size() == 3);
  CHECK(order.back() == leader);
  CHECK(daemons[actor]->metric(kSuccessfulRuleRuns) == 1);
  CHECK(series_total(daemons, kSuccessfulRuleRuns) == 1);
  for (std::size_t i = 0; i < daemons.size(); ++i) {
    CHECK((daemons[i]->log().find("starting a run") != std::string::npos) ==
          (static_cast<int>(i) == actor));
  }
  // Every daemon exports the new sizes of every member.
  const auto after = cluster->endpoint_status();
  for (const auto& d : daemons) {
    REQUIRE(eventually(5s, [&] {
      int small = 0;
      for (const auto& m : metric_samples(d->metrics(), "etcd_defragd_member_db_size_bytes")) {
        if (m.value < 12.0 * 1024 * 1024) ++small;
      }
      return small == 3;
    }));
  }
}

TEST_CASE("daemons: when the actor is killed mid-run another finishes, never two at once",
          "[daemon]") {
  auto cluster = EtcdCluster::start(cluster_options());
  DaemonSettings s;
  s.wait_between_defrags = "4s";  // a long run, to kill it in the middle
  auto daemons = start_daemons(*cluster, s);
  const int actor = lock_holder(daemons, 20s);
  REQUIRE(actor >= 0);

  cluster->write_and_fragment(16LL * 1024 * 1024);
  REQUIRE(eventually(30s, [&] { return cluster->defrag_events().size() >= 2; }));
  daemons[actor]->stop(SIGKILL);

  // The lease expires (10 s), another daemon takes the lock and defragments the rest.
  const bool finished = eventually(60s, [&] {
    for (const auto& st : cluster->endpoint_status()) {
      if (st.db_size_bytes > 8 * 1024 * 1024) return false;
    }
    return true;
  });
  if (!finished) {
    for (const auto& d : daemons) UNSCOPED_INFO("daemon log:\n" << d->log());
  }
  REQUIRE(finished);
  const auto order = defrag_order_from_logs(*cluster);  // checks that no defrags overlapped
  CHECK(std::set<int>(order.begin(), order.end()).size() == 3);
  const int next = lock_holder(daemons, 20s);
  REQUIRE(next >= 0);
  CHECK(next != actor);
  CHECK(daemons[next]->log().find("starting a run") != std::string::npos);
}

TEST_CASE("daemons: NOSPACE is cleared with no human action within two polls and the defrags",
          "[daemon][nospace]") {
  auto cluster = EtcdCluster::start(cluster_options(16LL * 1024 * 1024));
  DaemonSettings s;
  s.rule = "dbQuotaUsage > 2";  // never: only NOSPACE itself may trigger
  auto daemons = start_daemons(*cluster, s);
  REQUIRE(lock_holder(daemons, 20s) >= 0);  // the lock is taken before NOSPACE, as in production

  REQUIRE(fill_until_nospace(*cluster));
  const auto refused_at = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point accepted_at{};
  REQUIRE(eventually(30s, [&] {
    if (cluster->etcdctl({"put", "/after-nospace", "ok"}).exit_code != 0) return false;
    accepted_at = std::chrono::steady_clock::now();
    return true;
  }));
  const auto events = cluster->defrag_events();
  double defrag_seconds = 0;
  for (std::size_t i = 0; i + 1 < events.size(); i += 2)
    defrag_seconds += events[i + 1].ts - events[i].ts;
  const double recovered = std::chrono::duration<double>(accepted_at - refused_at).count();
  INFO("recovered in " << recovered << " s; defrags took " << defrag_seconds << " s");
  CHECK(recovered <= 2 * 1.0 + defrag_seconds + 1.0);
  CHECK(cluster->etcdctl_ok({"alarm", "list"}).find("NOSPACE") == std::string::npos);
  CHECK(series_total(daemons, R"(etcd_defragd_alarm_disarms_total)") >= 1);
}

TEST_CASE("daemons: SIGHUP with a bad config keeps the old one, SIGTERM exits 0 and frees the lock",
          "[daemon]") {
  auto cluster = EtcdCluster::start(cluster_options());
  DaemonSettings s;
  s.ttl = "60s";  // a released lock must move at once, not after the TTL
  Daemons daemons;
  daemons.push_back(std::make_unique<DaemonProcess>(*cluster, 0, s));
  REQUIRE(lock_holder(daemons, 20s) == 0);
  daemons.push_back(std::make_unique<DaemonProcess>(*cluster, 1, s));

  const std::string good = read_file(daemons[0]->config_path());
  {
    std::ofstream out(daemons[0]->config_path());
    out << "[policy]\npoll_interval = \"soon\"\n";
  }
  daemons[0]->signal(SIGHUP);
  REQUIRE(eventually(
      5s, [&] { return daemons[0]->log().find("reload rejected") != std::string::npos; }));
  CHECK_THAT(daemons[0]->log(), Catch::Contains("policy.poll_interval"));
  CHECK(daemons[0]->running());
  CHECK(daemons[0]->metric("etcd_defragd_lock_held") == 1);
  {
    std::ofstream out(daemons[0]->config_path());
    out << good;
  }
  daemons[0]->signal(SIGHUP);
  REQUIRE(eventually(
      5s, [&] { return daemons[0]->log().find("config reloaded") != std::string::npos; }));

  const auto stop_started = std::chrono::steady_clock::now();
  CHECK(daemons[0]->stop(SIGTERM) == 0);
  CHECK(std::chrono::steady_clock::now() - stop_started < 5s);
  CHECK_THAT(daemons[0]->log(), Catch::Contains("lock released"));
  // Well before the 60 s TTL: the lease was revoked, the other daemon owns the lock now.
  CHECK(eventually(5s, [&] { return daemons[1]->metric("etcd_defragd_lock_held") == 1; }));
}
