// The daemon's loop stepped by hand: a scripted cluster, an in-memory lock store, manual clocks.
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>

#include "fake_cluster.h"
#include "fake_lock_client.h"
#include "service/daemon_loop.h"

using namespace edd;
using namespace edd::service;
using edd::test::FakeCluster;
using edd::test::FakeLockClient;
using edd::test::kEtcd1;
using edd::test::kEtcd2;
using edd::test::kEtcd3;
using edd::test::three_members;

namespace {

class RecordingObserver final : public LoopObserver {
 public:
  void on_poll(const PollView&, std::chrono::nanoseconds) override { ++polls; }
  void on_run(Trigger t, const defrag::RunReport& r) override {
    runs.push_back(trigger_name(t) + ":" + defrag::outcome_name(r.outcome));
  }
  void on_lock(bool held) override { lock_changes.push_back(held); }
  void say(const std::string& line) override { lines.push_back(line); }
  int polls = 0;
  std::vector<std::string> runs;
  std::vector<bool> lock_changes;
  std::vector<std::string> lines;
};

rule::Rule rule(std::string_view text) {
  auto r = rule::Rule::parse(text);
  REQUIRE(r);
  return *r;
}

// The record's text in etcd is the app's business (JSON: last_run_json.h); any round trip lets
// the daemons here share their record through the fake store, without a JSON library.
std::string encode_last_run(const LastRun& r) {
  return std::to_string(r.unix_seconds) + "\n" + r.result + "\n" + r.actor + "\n" + r.trigger;
}
std::optional<LastRun> decode_last_run(const std::string& text) {
  std::istringstream in(text);
  LastRun r;
  std::string time;
  if (!std::getline(in, time) || !std::getline(in, r.result) || !std::getline(in, r.actor)) {
    return std::nullopt;
  }
  std::getline(in, r.trigger);
  r.unix_seconds = std::stoll(time);
  return r;
}

// One daemon: its loop, its lock, its clocks; several may share one cluster and lock store.
struct Daemon {
  Daemon(FakeCluster& cluster, FakeLockClient& store, const std::string& local,
         std::string rule_text = "dbSizeFree > 50*1000*1000", bool reclaim = false,
         const std::function<void(LoopSettings&)>& tweak = {})
      : lock(store, lock_options(local, reclaim)) {
    LoopSettings s;
    s.seeds = {kEtcd1, kEtcd2, kEtcd3};
    s.cluster = true;
    s.local_endpoint = local;
    s.identity = local;
    s.rule = rule(rule_text);
    s.min_interval = std::chrono::hours(1);
    s.run.catch_up_timeout = std::chrono::seconds(5);
    if (tweak) tweak(s);
    LoopHooks hooks;
    hooks.paused = [this] { return paused; };
    hooks.in_window = [this](std::chrono::system_clock::time_point) { return in_window; };
    hooks.encode_last_run = encode_last_run;
    hooks.decode_last_run = decode_last_run;
    loop = std::make_unique<DaemonLoop>(cluster, store, lock, clock, hooks, s, observer);
  }
  static coord::LockOptions lock_options(const std::string& who, bool reclaim) {
    coord::LockOptions o;
    o.identity = who;
    o.reclaim_previous_incarnation = reclaim;
    return o;
  }
  coord::LeaseLock lock;
  ManualClock clock;
  RecordingObserver observer;
  bool paused = false;
  bool in_window = true;
  std::unique_ptr<DaemonLoop> loop;
};

// Members whose files do not shrink: the rule keeps firing after a run, so cooldowns show.
std::vector<edd::test::FakeMember> stubborn_members() {
  auto members = three_members();
  for (auto& m : members) m.db_size_after = m.db_size;
  return members;
}

}  // namespace

TEST_CASE("loop: a rule that fires leads to one run in the same poll, then a cooldown") {
  FakeCluster cluster(stubborn_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  const StepResult first = d.loop->step();
  CHECK(first.decision == Decision::kRan);
  CHECK(cluster.events_starting_with("defragment").size() == 3);
  CHECK(d.observer.runs == std::vector<std::string>{"rule:success"});
  CHECK(d.observer.lock_changes == std::vector<bool>{true});

  const StepResult second = d.loop->step();
  CHECK(second.decision == Decision::kCooldown);
  CHECK(cluster.events_starting_with("defragment").size() == 3);

  d.clock.set_wall(d.clock.wall_now() + std::chrono::minutes(61));  // the cooldown is wall time
  CHECK(d.loop->step().decision == Decision::kRan);
}

TEST_CASE("loop: after a run that worked the rule is quiet again") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  REQUIRE(d.loop->step().decision == Decision::kRan);
  CHECK(d.loop->step().decision == Decision::kIdle);
}

TEST_CASE("loop: a rule that is false everywhere does nothing") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1, "dbSizeFree > 500*1000*1000");
  CHECK(d.loop->step().decision == Decision::kIdle);
  CHECK(cluster.events_starting_with("defragment").empty());
  CHECK(cluster.events_starting_with("compact").empty());
}

TEST_CASE("loop: the kill switch pauses action while polling goes on") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  d.paused = true;
  CHECK(d.loop->step().decision == Decision::kPaused);
  CHECK(d.observer.polls == 1);
  CHECK(cluster.events_starting_with("defragment").empty());
  d.paused = false;
  CHECK(d.loop->step().decision == Decision::kRan);
}

TEST_CASE("loop: outside the maintenance windows nothing runs") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  d.in_window = false;
  CHECK(d.loop->step().decision == Decision::kOutsideWindow);
  CHECK(cluster.events_starting_with("defragment").empty());
}

TEST_CASE("loop: the cooldown is shared through etcd, so a second daemon respects it") {
  FakeCluster cluster(stubborn_members(), 1);
  FakeLockClient store;
  Daemon a(cluster, store, kEtcd1);
  Daemon b(cluster, store, kEtcd2);
  REQUIRE(a.loop->step().decision == Decision::kRan);
  a.loop->release_lock();  // a goes away; b could take the lock now
  b.clock.set_wall(a.clock.wall_now() + std::chrono::minutes(10));
  const StepResult r = b.loop->step();
  CHECK(r.decision == Decision::kCooldown);
  CHECK_THAT(r.reason, Catch::Contains(kEtcd1));
  CHECK(cluster.events_starting_with("defragment").size() == 3);
}

TEST_CASE("loop: only the daemon holding the lock acts") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon a(cluster, store, kEtcd1);
  Daemon b(cluster, store, kEtcd2);
  a.paused = true;
  REQUIRE(a.loop->step().decision == Decision::kPaused);  // a campaigned first: a holds it
  const StepResult r = b.loop->step();
  CHECK(r.decision == Decision::kNotActor);
  CHECK_THAT(r.reason, Catch::Contains("held by " + std::string(kEtcd1)));
  CHECK(cluster.events_starting_with("defragment").empty());
}

TEST_CASE("loop: NOSPACE bypasses the cooldown") {
  FakeCluster cluster(stubborn_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  REQUIRE(d.loop->step().decision == Decision::kRan);
  cluster.raise_alarm(1, etcd::AlarmType::kNoSpace);
  d.clock.set_wall(d.clock.wall_now() + std::chrono::minutes(1));
  const StepResult r = d.loop->step();
  CHECK(r.decision == Decision::kRan);
  CHECK(d.observer.runs.back() == "nospace:success");
}

TEST_CASE("loop: under NOSPACE with nobody holding the lock, the lowest healthy member acts") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  cluster.raise_alarm(2, etcd::AlarmType::kNoSpace);
  store.set_nospace(true);  // nobody can take the lock any more
  Daemon high(cluster, store, kEtcd3);
  const StepResult waits = high.loop->step();
  CHECK(waits.decision == Decision::kNotActor);
  CHECK_THAT(waits.reason, Catch::Contains("member 1 acts"));
  CHECK(cluster.events_starting_with("defragment").empty());

  Daemon low(cluster, store, kEtcd1);
  CHECK(low.loop->step().decision == Decision::kRan);
  CHECK(cluster.events_starting_with("defragment").size() == 3);
}

TEST_CASE("loop: a lock lost mid-run stops the run after the current member") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  d.paused = true;
  REQUIRE(d.loop->step().decision == Decision::kPaused);  // campaign: d holds the lock
  d.paused = false;
  // The first member defragmented is etcd-2 (a follower): the lease expires meanwhile.
  cluster.after_next("defragment", kEtcd2, [&] { store.expire(d.lock.lease_id()); });
  const StepResult r = d.loop->step();
  REQUIRE(r.decision == Decision::kRan);
  REQUIRE(r.report);
  CHECK(r.report->outcome == defrag::Outcome::kAborted);
  CHECK_THAT(r.report->abort_reason, Catch::Contains("lost the lock"));
  CHECK(cluster.events_starting_with("defragment") ==
        std::vector<std::string>{"defragment etcd-2:2379"});
}

TEST_CASE("loop: a requested run bypasses the rule but waits for a healthy cluster") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1, "dbSizeFree > 500*1000*1000");
  d.loop->request_run(Trigger::kWebhook, true);
  d.loop->request_run(Trigger::kWebhook, true);  // a repeat delivery coalesces
  cluster.make_unreachable(kEtcd3);
  const StepResult blocked = d.loop->step();
  CHECK(blocked.decision == Decision::kUnhealthy);
  CHECK_FALSE(blocked.report);
  CHECK(d.observer.runs.empty());
  CHECK(cluster.events().empty());
  // Considered at this poll, then forgotten (Alertmanager repeats a firing alert).
  CHECK_FALSE(d.loop->run_pending());
  CHECK(d.observer.lines.back() ==
        "run request (webhook) not taken: waiting for a healthy cluster: member " +
            std::string(kEtcd3) + " is unhealthy (no answer to status)");

  cluster.heal(kEtcd3);
  d.loop->request_run(Trigger::kWebhook, true);
  const StepResult ran = d.loop->step();
  CHECK(ran.decision == Decision::kRan);
  CHECK(cluster.events_starting_with("defragment").size() == 3);
  CHECK(d.observer.runs.back() == "webhook:success");
  CHECK_FALSE(d.loop->run_pending());
}

TEST_CASE("loop: while a member is down or unhealthy the actor starts no run, then runs at once") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  cluster.make_unreachable(kEtcd3);
  cluster.fail_always("health", kEtcd2,
                      make_error(ErrorCode::kDeadlineExceeded, "etcd-2:2379: health: deadline"));
  for (int poll = 0; poll < 3; ++poll) {
    const StepResult r = d.loop->step();
    CHECK(r.decision == Decision::kUnhealthy);
    CHECK(r.reason == "member " + std::string(kEtcd2) +
                          " is unhealthy (health check failed); member " + kEtcd3 +
                          " is unhealthy (no answer to status)");
  }
  // No run was started, so none was aborted, and nothing was touched.
  CHECK(d.observer.runs.empty());
  CHECK(cluster.events().empty());

  cluster.heal(kEtcd2);
  cluster.heal(kEtcd3);
  const StepResult r = d.loop->step();
  CHECK(r.decision == Decision::kRan);
  CHECK(d.observer.runs == std::vector<std::string>{"rule:success"});
}

TEST_CASE("loop: a daemon that is not the actor says so, whatever the members' health") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon holder(cluster, store, kEtcd1);
  holder.paused = true;
  REQUIRE(holder.loop->step().decision == Decision::kPaused);  // holds the lock
  Daemon other(cluster, store, kEtcd2);
  cluster.make_unreachable(kEtcd3);
  CHECK(other.loop->step().decision == Decision::kNotActor);
}

TEST_CASE("loop: keep-alives skip the member being defragmented") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  cluster.after_next("defragment", kEtcd2, [&] { REQUIRE(d.loop->keep_alive()); });
  REQUIRE(d.loop->step().decision == Decision::kRan);
  // The keep-alive above ran while etcd-2 was (still) marked as being defragmented.
  bool kept_alive = false;
  for (const auto& c : store.calls()) {
    if (c.starts_with("keepalive")) {
      kept_alive = true;
      CHECK(c != "keepalive etcd-2:2379");
    }
  }
  CHECK(kept_alive);
}

TEST_CASE("loop: NOSPACE triggers a run of every member even when the rule is quiet") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1, "dbQuotaUsage > 2");
  CHECK(d.loop->step().decision == Decision::kIdle);
  cluster.raise_alarm(3, etcd::AlarmType::kNoSpace);
  const StepResult r = d.loop->step();
  CHECK(r.decision == Decision::kRan);
  CHECK(cluster.events_starting_with("defragment").size() == 3);
  CHECK(d.observer.runs.back() == "nospace:success");
}

TEST_CASE("loop: the view is refreshed right after a run, so metrics show the new sizes") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  REQUIRE(d.loop->step().decision == Decision::kRan);
  CHECK(d.observer.polls == 2);
  for (const auto& m : d.loop->last_view().members) {
    REQUIRE(m.status);
    CHECK(m.status->db_size == 40'000'000);  // the fake's size after its defrag
  }
}

TEST_CASE("loop: a daemon whose keep-alives fail for a whole TTL stops claiming the lock") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  d.paused = true;
  REQUIRE(d.loop->step().decision == Decision::kPaused);
  REQUIRE(d.observer.lock_changes == std::vector<bool>{true});
  for (const char* ep : {kEtcd1, kEtcd2, kEtcd3}) store.set_down(ep, true);  // cut off
  d.clock.advance(std::chrono::seconds(30));
  CHECK_FALSE(d.loop->keep_alive());
  CHECK(d.observer.lock_changes == std::vector<bool>{true});  // half a TTL: still ours
  d.clock.advance(std::chrono::seconds(31));
  CHECK_FALSE(d.loop->keep_alive());
  CHECK(d.observer.lock_changes == std::vector<bool>{true, false});
}

TEST_CASE("loop: the lock is given up at the lease's end even while no keep-alive returns") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  d.paused = true;
  REQUIRE(d.loop->step().decision == Decision::kPaused);
  d.clock.advance(std::chrono::seconds(20));
  REQUIRE(d.loop->keep_alive());  // renewed at t=20 s: good until t=80 s
  d.clock.advance(std::chrono::seconds(59));
  d.loop->expire_lock_if_due();
  CHECK(d.observer.lock_changes == std::vector<bool>{true});
  // A keep-alive now blocked in an unreachable cluster would return after the lease's end;
  // the timer's check does not wait for it.
  d.clock.advance(std::chrono::seconds(1));
  d.loop->expire_lock_if_due();
  CHECK(d.observer.lock_changes == std::vector<bool>{true, false});
  // A later poll that still reads our key does not claim the lock past the deadline.
  REQUIRE(d.loop->step().decision == Decision::kPaused);
  CHECK(d.observer.lock_changes == std::vector<bool>{true, false});
}

TEST_CASE("loop: a NOSPACE alarm raised by a member that is down is seen, and the actor waits") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1, "dbQuotaUsage > 2");
  cluster.raise_alarm(3, etcd::AlarmType::kNoSpace);
  cluster.make_unreachable(kEtcd3);
  const StepResult r = d.loop->step();
  // Seen (the poll's alarm list comes from a member that answers), not acted on: etcd-3 is down,
  // and the health gate would refuse.
  CHECK(d.loop->last_view().nospace);
  CHECK(r.decision == Decision::kUnhealthy);
  CHECK_THAT(r.reason, Catch::Contains(std::string(kEtcd3) + " is unhealthy"));
  CHECK(cluster.events().empty());

  cluster.heal(kEtcd3);
  CHECK(d.loop->step().decision == Decision::kRan);
  CHECK(d.observer.runs == std::vector<std::string>{"nospace:success"});
}

TEST_CASE(
    "loop: the NOSPACE fallback actor says so in its wait, the same each poll, then once at its "
    "run") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  cluster.raise_alarm(2, etcd::AlarmType::kNoSpace);
  store.set_nospace(true);  // nobody can take the lock
  cluster.make_unreachable(kEtcd3);
  Daemon low(cluster, store, kEtcd1);
  const std::string acting =
      "lock: NOSPACE and nobody holds the lock; acting as the member with the lowest healthy ID "
      "(1)";
  auto acting_lines = [&] {
    return std::count_if(low.observer.lines.begin(), low.observer.lines.end(),
                         [&](const auto& l) { return l.find(acting) != std::string::npos; });
  };
  const StepResult first = low.loop->step();
  CHECK(first.decision == Decision::kUnhealthy);
  CHECK_THAT(first.reason, Catch::Contains(acting));
  // The same line at every poll, so the poll log (PollLog) says it once.
  for (int poll = 0; poll < 2; ++poll) CHECK(low.loop->step().reason == first.reason);
  CHECK(acting_lines() == 0);

  cluster.heal(kEtcd3);
  CHECK(low.loop->step().decision == Decision::kRan);
  CHECK(acting_lines() == 1);
  CHECK(low.observer.runs == std::vector<std::string>{"nospace:success"});
}

TEST_CASE("loop: mid-upgrade the actor starts no run and says why, then runs once it is over") {
  auto members = three_members();
  members[2].version = "3.6.16";
  FakeCluster cluster(members, 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  for (int poll = 0; poll < 2; ++poll) {
    const StepResult r = d.loop->step();
    CHECK(r.decision == Decision::kVersionChange);
    CHECK_THAT(r.reason, Catch::StartsWith("members run different etcd versions (an upgrade is "
                                           "in progress): "));
    CHECK_THAT(r.reason,
               Catch::EndsWith("; set policy.defrag_during_version_change = true to defragment "
                               "anyway"));
  }
  CHECK(d.loop->last_view().version_change.change == defrag::VersionChange::kUpgrade);
  CHECK(d.observer.runs.empty());
  CHECK(cluster.events_starting_with("defragment").empty());

  cluster.set_version(kEtcd1, "3.6.16");
  cluster.set_version(kEtcd2, "3.6.16");
  CHECK(d.loop->step().decision == Decision::kRan);
  CHECK(d.observer.runs == std::vector<std::string>{"rule:success"});
}

TEST_CASE("loop: a downgrade in progress holds even NOSPACE's run") {
  auto members = three_members();
  for (auto& m : members) m.version = "3.6.16";
  members[0].downgrade_enabled = true;
  FakeCluster cluster(members, 1);
  cluster.raise_alarm(members[1].id, etcd::AlarmType::kNoSpace);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1);
  const StepResult r = d.loop->step();
  CHECK(r.decision == Decision::kVersionChange);
  CHECK_THAT(r.reason, Catch::StartsWith("a downgrade to 3.5.0 is in progress"));
  CHECK(cluster.events_starting_with("defragment").empty());
}

TEST_CASE("loop: with defrag_during_version_change the actor runs mid-upgrade") {
  auto members = three_members();
  members[0].version = "3.6.16";
  FakeCluster cluster(members, 1);
  FakeLockClient store;
  Daemon d(cluster, store, kEtcd1, "dbSizeFree > 50*1000*1000", false,
           [](LoopSettings& s) { s.defrag_during_version_change = true; });
  CHECK(d.loop->step().decision == Decision::kRan);
  CHECK(cluster.events_starting_with("defragment").size() == 3);
}

TEST_CASE("loop: stopping says the lock was released only by the daemon that held it") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  Daemon a(cluster, store, kEtcd1, "dbSizeFree > 500*1000*1000");
  Daemon b(cluster, store, kEtcd2, "dbSizeFree > 500*1000*1000");
  REQUIRE(a.loop->step().decision == Decision::kIdle);
  REQUIRE(b.loop->step().decision == Decision::kIdle);
  CHECK_FALSE(b.loop->release_lock());  // it only waited behind a
  CHECK(a.loop->release_lock());
  CHECK_FALSE(a.loop->release_lock());
}

TEST_CASE("loop: a restarted daemon says it revoked its predecessor's lease and acts at once") {
  FakeCluster cluster(stubborn_members(), 1);
  FakeLockClient store;
  {
    Daemon before(cluster, store, kEtcd1, "dbSizeFree > 500*1000*1000", true);
    REQUIRE(before.loop->step().decision == Decision::kIdle);
    REQUIRE(before.observer.lock_changes == std::vector<bool>{true});
  }  // killed by the watchdog: no release, its lease lives on in etcd
  Daemon after(cluster, store, kEtcd1, "dbSizeFree > 50*1000*1000", true);
  CHECK(after.loop->step().decision == Decision::kRan);
  CHECK(after.observer.lock_changes == std::vector<bool>{true});
  const auto& lines = after.observer.lines;
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
          return l.find("revoked lease") != std::string::npos &&
                 l.find("previous incarnation of this daemon") != std::string::npos;
        }) == 1);
}
