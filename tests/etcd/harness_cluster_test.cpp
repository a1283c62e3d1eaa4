// EtcdCluster's lifecycle: start, health, stop and restart of members, cleanup by PID.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "harness/etcd_cluster.h"

using edd::test::ClusterOptions;
using edd::test::EtcdCluster;
using namespace std::chrono_literals;

namespace {

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

}  // namespace

TEST_CASE("harness starts a plain cluster with 3 healthy members and stops every PID",
          "[harness]") {
  std::vector<pid_t> pids;
  std::string dir;
  {
    auto cluster = EtcdCluster::start(ClusterOptions{});
    REQUIRE(cluster->size() == 3);
    dir = cluster->dir();
    for (int i = 0; i < cluster->size(); ++i) {
      REQUIRE(cluster->pid(i) > 0);
      pids.push_back(cluster->pid(i));
      CHECK(cluster->member_name(i) == "edd-" + std::to_string(i));
      CHECK(cluster->client_endpoint(i).starts_with("127.0.0.1:"));
      CHECK(std::filesystem::exists(cluster->log_path(i)));
    }
    auto health = cluster->etcdctl({"endpoint", "health"});
    CHECK(health.exit_code == 0);
    for (const auto& endpoint : cluster->client_endpoints()) {
      // etcdctl 3.4 says it on stderr, 3.5+ on stdout.
      CHECK_THAT(health.out + health.err, Catch::Contains(endpoint + " is healthy"));
    }
    std::string members = cluster->etcdctl_ok({"member", "list"});
    for (int i = 0; i < 3; ++i) CHECK_THAT(members, Catch::Contains(cluster->member_name(i)));

    auto metrics = edd::test::run_command(
        {"curl", "-sS", "--noproxy", "*", cluster->metrics_url(0) + "/metrics"}, 10s);
    CHECK(metrics.exit_code == 0);
    CHECK_THAT(metrics.out, Catch::Contains("etcd_mvcc_db_total_size_in_bytes"));

    auto statuses = cluster->endpoint_status();
    REQUIRE(statuses.size() == 3);
    int leaders = 0;
    for (const auto& status : statuses) leaders += status.is_leader() ? 1 : 0;
    CHECK(leaders == 1);
  }
  for (pid_t pid : pids) CHECK_FALSE(process_exists(pid));
  if (std::getenv("EDD_KEEP_TEST_DIRS") == nullptr) CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("harness restarts a stopped member with its data and it rejoins the cluster",
          "[harness]") {
  auto cluster = EtcdCluster::start(ClusterOptions{});
  cluster->etcdctl_ok({"put", "/before", "1"});

  pid_t old_pid = cluster->pid(1);
  cluster->stop_member(1);
  CHECK(cluster->pid(1) == 0);
  CHECK_FALSE(process_exists(old_pid));
  cluster->etcdctl_ok({"put", "/while-stopped", "2"},
                      cluster->client_endpoint(0) + "," + cluster->client_endpoint(2));

  cluster->start_member(1);
  CHECK(cluster->pid(1) > 0);
  cluster->wait_healthy(20s);
  // Serializable: member 1's own copy, caught up by the linearizable health check.
  std::string keys = cluster->etcdctl_ok({"get", "/", "--prefix", "--keys-only", "--consistency=s"},
                                         cluster->client_endpoint(1));
  CHECK_THAT(keys, Catch::Contains("/before") && Catch::Contains("/while-stopped"));

  old_pid = cluster->pid(2);
  cluster->kill_member(2, SIGKILL);
  CHECK(cluster->pid(2) == 0);
  CHECK_FALSE(process_exists(old_pid));
  cluster->start_member(2);
  cluster->wait_healthy(20s);
}

TEST_CASE("harness resumes a SIGSTOPped member and still ends a stopped one", "[harness]") {
  std::vector<pid_t> pids;
  {
    auto cluster = EtcdCluster::start(ClusterOptions{});
    for (int i = 0; i < 3; ++i) pids.push_back(cluster->pid(i));
    cluster->kill_member(0, SIGSTOP);
    CHECK(cluster->pid(0) == pids[0]);
    auto health = cluster->etcdctl({"endpoint", "health", "--command-timeout=1s"},
                                   cluster->client_endpoint(0));
    CHECK(health.exit_code != 0);
    cluster->kill_member(0, SIGCONT);
    cluster->wait_healthy(20s);
    cluster->kill_member(1, SIGSTOP);  // left stopped: the destructor must still end it
  }
  for (pid_t pid : pids) CHECK_FALSE(process_exists(pid));
}
