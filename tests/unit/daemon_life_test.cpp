// The whole daemon - config, wiring, observer, metrics, health, reload - built on fakes and
// stepped by hand: a scripted cluster, an in-memory lock store, a manual clock, a recording
// systemd notifier.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "config/loader.h"
#include "fake_cluster.h"
#include "fake_lock_client.h"
#include "service/daemon.h"

using namespace edd;
using namespace edd::service;
using edd::test::FakeCluster;
using edd::test::FakeLockClient;
using edd::test::kEtcd1;
using edd::test::three_members;

namespace {

class RecordingNotifier final : public Notifier {
 public:
  void notify(const std::string& state) override { states.push_back(state); }
  std::vector<std::string> states;
};

config::Config config_of(const std::string& policy_lines) {
  const auto r = config::load_config_string(
      "[etcd]\nendpoints = [\"etcd-1:2379\", \"etcd-2:2379\", \"etcd-3:2379\"]\n"
      "local_endpoint = \"etcd-1:2379\"\n"
      "[policy]\npoll_interval = \"10s\"\npause_file = \"/nonexistent/etcd-defragd-pause\"\n" +
          policy_lines,
      "test.toml");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.config);
  return *r.config;
}

// A daemon on fakes; `connects` counts the etcd connections the World was asked for.
struct Fixture {
  FakeCluster cluster{three_members(), 1};
  FakeLockClient store;
  ManualClock clock;
  RecordingNotifier notifier;
  Log log{config::LogConfig{}};
  int connects = 0;
  bool connect_fails = false;

  World world() {
    // The fakes outlive the daemon: shared pointers that own nothing.
    auto cluster_ptr = std::shared_ptr<etcd::ClusterClient>(&cluster, [](auto*) {});
    auto store_ptr = std::shared_ptr<etcd::LockClient>(&store, [](auto*) {});
    return World{clock, notifier,
                 [=, this](const etcd::ClientOptions&) -> Result<EtcdConnection> {
                   ++connects;
                   if (connect_fails) return make_error(ErrorCode::kUnavailable, "no route");
                   return EtcdConnection{{cluster_ptr, store_ptr}, {}};
                 },
                 "0123456789abcdef"};
  }
  std::unique_ptr<Daemon> start(const config::Config& c) {
    auto d = Daemon::create(c, world(), log);
    REQUIRE(d);
    return std::move(*d);
  }
};

int index_of(const std::vector<std::string>& v, const std::string& prefix) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i].starts_with(prefix)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

TEST_CASE("daemon: READY=1 after the first poll and before its run, then a status per poll") {
  Fixture f;
  auto d = f.start(config_of("rule = \"dbSize > 0\"\n"));
  const StepResult r = d->step();
  CHECK(r.decision == Decision::kRan);
  const int ready = index_of(f.notifier.states, "READY=1");
  REQUIRE(ready >= 0);
  // The defrags happened after READY=1: the notifier saw it before the step returned, and the
  // step ran; the order of the two is what systemd sees.
  CHECK(index_of(f.notifier.states, "STATUS=last poll: ran") > ready);
  CHECK(f.cluster.events_starting_with("defragment").size() == 3);
  d->step();
  CHECK(std::count(f.notifier.states.begin(), f.notifier.states.end(), "READY=1") == 1);
}

TEST_CASE("daemon: /healthz goes stale when no poll finished for 3 poll intervals and a minute") {
  Fixture f;
  auto d = f.start(config_of(""));
  CHECK_FALSE(d->health().ok);
  CHECK(d->health().reason == "no poll yet");
  d->step();
  CHECK(d->health().ok);
  f.clock.advance(std::chrono::seconds(3 * 10 + 60));
  CHECK(d->health().ok);
  f.clock.advance(std::chrono::milliseconds(1));
  CHECK_FALSE(d->health().ok);
  CHECK(d->health().reason == "no poll for more than 3 poll intervals");
  d->step();
  CHECK(d->health().ok);
}

TEST_CASE("daemon: the config's run policy reaches the run, through the one wiring function") {
  Fixture f;
  const auto c = config_of(
      "move_leader = true\nauto_disalarm = false\ncompaction = false\nquota_bytes = 4194304\n");
  auto w = wire(c, f.world());
  REQUIRE(w);
  CHECK(w->settings.run.move_leader == policy::MoveLeader::kAlways);
  CHECK_FALSE(w->settings.run.auto_disalarm);
  CHECK_FALSE(w->settings.run.compaction);
  CHECK(w->settings.run.command_timeout == c.etcd.command_timeout);
  CHECK(w->settings.run.view.flag_quota_bytes == 4194304);
  CHECK(w->settings.identity.find("host 0123456789abcdef") != std::string::npos);
}

TEST_CASE("daemon: a reload applies the new policy and rebuilds the etcd connection") {
  Fixture f;
  auto d = f.start(config_of("rule = \"dbSize < 0\"\n"));
  CHECK(d->step().decision == Decision::kIdle);
  REQUIRE(f.connects == 1);
  d->reload(config_of("rule = \"dbSize > 0\"\n"));
  CHECK(f.connects == 2);
  CHECK(d->rule().text() == "dbSize > 0");
  CHECK(d->step().decision == Decision::kRan);
}

TEST_CASE("daemon: a reload whose connection fails keeps the client and still applies the policy") {
  Fixture f;
  auto d = f.start(config_of("rule = \"dbSize < 0\"\n"));
  CHECK(d->step().decision == Decision::kIdle);
  f.connect_fails = true;
  d->reload(config_of("rule = \"dbSize > 0\"\n"));
  CHECK(d->step().decision == Decision::kRan);  // through the running client
}

TEST_CASE("daemon: a connection that cannot be made at start is an error naming why") {
  Fixture f;
  f.connect_fails = true;
  auto d = Daemon::create(config_of(""), f.world(), f.log);
  REQUIRE_FALSE(d);
  CHECK(d.error().message == "no route");
}

TEST_CASE("daemon: stopping says STOPPING=1 and releasing gives the lock back") {
  Fixture f;
  auto d = f.start(config_of(""));
  d->step();
  CHECK(d->metrics_text().find("etcd_defragd_lock_held 1") != std::string::npos);
  d->request_stop();
  CHECK(f.notifier.states.back() == "STOPPING=1");
  d->release();
  CHECK(d->metrics_text().find("etcd_defragd_lock_held 0") != std::string::npos);
  CHECK(f.store.list_prefix(kEtcd1, "/etcd-defragd/lock/", 0)->empty());
}
