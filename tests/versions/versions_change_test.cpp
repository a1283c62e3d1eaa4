// A cluster whose etcd version is changing, on real servers: in the middle of a rolling upgrade
// (3.5 members beside a 3.6 one) and with a 3.6 downgrade enabled, the daemon starts no run, says
// why once, shows it in /v1/status and its metric, and acts as soon as the change is over; the
// CLI warns and goes on, as etcd-defrag does.
#include <catch2/catch.hpp>

#include <sstream>

#include "support/cluster_checks.h"
#include "support/daemon_process.h"

using namespace edd::test;
using namespace std::chrono_literals;

namespace {

const std::string kWaiting = "poll: waiting for the etcd version change to finish: ";

// How many times the daemon said line at info (the poll log repeats a decision at debug).
int said_at_info(const DaemonProcess& d, const std::string& line) {
  int count = 0;
  std::istringstream in(d.log());
  for (std::string l; std::getline(in, l);) {
    if (l.find(" info ") != std::string::npos && l.find(line) != std::string::npos) ++count;
  }
  return count;
}

std::string version_change_of(const DaemonProcess& d) {
  const auto status = parse_json(d.get("/v1/status")).as_object();
  return std::string(status.at("versionChange").as_string());
}

double change_metric(const DaemonProcess& d, const std::string& kind) {
  return d.metric("etcd_defragd_version_change_in_progress{kind=\"" + kind + "\"}");
}

// The daemon waits with the rule true: no defrag, said once (the reason starts with reason and
// names each of details), visible in /v1/status and /metrics.
void check_waits(const EtcdCluster& cluster, const DaemonProcess& d, const std::string& kind,
                 const std::string& reason, const std::vector<std::string>& details = {}) {
  INFO(d.log());
  REQUIRE(eventually(20s, [&] { return said_at_info(d, kWaiting + reason) >= 1; }));
  std::this_thread::sleep_for(3s);  // three more polls
  CHECK(said_at_info(d, kWaiting + reason) == 1);
  for (const auto& detail : details) CHECK_THAT(d.log(), Catch::Contains(detail));
  CHECK_THAT(d.log(), Catch::Contains("set policy.defrag_during_version_change = true"));
  CHECK(version_change_of(d) == kind);
  CHECK(change_metric(d, kind) == 1);
  CHECK(cluster.defrag_events().empty());
  CHECK_THAT(d.log(), !Catch::Contains("starting a run"));
}

void check_acts(const EtcdCluster& cluster, const DaemonProcess& d, const std::string& kind) {
  INFO(d.log());
  REQUIRE(eventually(60s, [&] { return cluster.defrag_events().size() >= 6; }));
  CHECK(defrag_order_from_logs(cluster).size() == 3);
  CHECK(eventually(5s, [&] { return change_metric(d, kind) == 0; }));
  CHECK(version_change_of(d) == "none");
}

}  // namespace

TEST_CASE("mid-upgrade (two 3.5 members, one 3.6) the daemon waits, then acts once upgraded",
          "[versions][daemon]") {
  ClusterOptions o;
  o.etcd_version = "3.6";  // etcdctl
  o.member_versions = {"3.5", "3.5", "3.5"};
  auto cluster = EtcdCluster::start(o);
  cluster->restart_member_as(2, "3.6");
  cluster->wait_healthy(30s);
  cluster->write_and_fragment(24LL * 1024 * 1024);

  DaemonProcess daemon(*cluster, 0, DaemonSettings{});
  const std::string v35 = cluster->release(0).version();
  const std::string v36 = cluster->release(2).version();
  // The 3.5 members first (the lower version), each as MemberList names it.
  check_waits(*cluster, daemon, "upgrade",
              "members run different etcd versions (an upgrade is in progress): ",
              {"http://" + cluster->client_endpoint(0) + " " + v35,
               "http://" + cluster->client_endpoint(1) + " " + v35,
               v35 + "; http://" + cluster->client_endpoint(2) + " " + v36});

  // The CLI keeps etcd-defrag's behaviour: it would go on; it warns first.
  const CommandResult dry =
      run_edd({"defrag", "--endpoints", cluster->client_endpoint(0), "--cluster", "--dry-run"});
  INFO(dry.out << dry.err);
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out + dry.err, Catch::Contains("WARNING: members run different etcd versions"));
  const CommandResult status = run_edd({"status", "--endpoints", cluster->endpoints_csv()});
  CHECK_THAT(status.out, Catch::Contains("WARNING: members run different etcd versions"));

  // The upgrade finishes: the daemon acts by itself at its next polls.
  cluster->restart_member_as(0, "3.6");
  cluster->restart_member_as(1, "3.6");
  cluster->wait_healthy(30s);
  check_acts(*cluster, daemon, "upgrade");
}

TEST_CASE("with a downgrade enabled on 3.6 the daemon waits, then acts once it is cancelled",
          "[versions][daemon]") {
  ClusterOptions o;
  o.etcd_version = "3.6";
  auto cluster = EtcdCluster::start(o);
  cluster->write_and_fragment(24LL * 1024 * 1024);
  cluster->etcdctl_ok({"downgrade", "validate", "3.5"});
  cluster->etcdctl_ok({"downgrade", "enable", "3.5"});

  DaemonProcess daemon(*cluster, 1, DaemonSettings{});
  check_waits(*cluster, daemon, "downgrade", "a downgrade to 3.5");
  const auto members =
      parse_json(run_edd({"status", "--endpoints", cluster->endpoints_csv(), "-w", "json"}).out)
          .as_array();
  for (const auto& m : members) CHECK(m.at("downgradeEnabled").as_bool());

  cluster->etcdctl_ok({"downgrade", "cancel"});
  check_acts(*cluster, daemon, "downgrade");
}

TEST_CASE("with defrag_during_version_change = true the daemon acts mid-upgrade and warns",
          "[versions][daemon]") {
  ClusterOptions o;
  o.etcd_version = "3.6";
  o.member_versions = {"3.5", "3.6", "3.6"};
  auto cluster = EtcdCluster::start(o);
  cluster->write_and_fragment(24LL * 1024 * 1024);
  DaemonSettings s;
  s.policy_extra = "defrag_during_version_change = true";
  DaemonProcess daemon(*cluster, 2, s);
  INFO(daemon.log());
  REQUIRE(eventually(30s, [&] { return cluster->defrag_events().size() >= 6; }));
  CHECK(defrag_order_from_logs(*cluster).size() == 3);
  CHECK(said_at_info(daemon, "members run different etcd versions") >= 1);
  CHECK(change_metric(daemon, "upgrade") == 1);
}
