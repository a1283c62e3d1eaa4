// The daemon's loop and the reclaim floor: a rule that fires for a member with nothing to give
// back starts no run (poll after poll), says why once, and runs as soon as there is something to
// reclaim, or at once under NOSPACE.
#include <catch2/catch.hpp>

#include "fake_cluster.h"
#include "fake_lock_client.h"
#include "service/daemon_loop.h"
#include "service/floor_notice.h"

using Catch::Matchers::Contains;
using namespace edd;
using namespace edd::service;
using edd::test::FakeCluster;
using edd::test::FakeLockClient;
using edd::test::kEtcd1;
using edd::test::kEtcd2;
using edd::test::kEtcd3;

namespace {

class Recorder final : public LoopObserver {
 public:
  void on_poll(const PollView& view, std::chrono::nanoseconds) override {
    if (auto line = notice.update(view); !line.empty()) notices.push_back(line);
  }
  void on_run(Trigger t, const defrag::RunReport& r) override {
    runs.push_back(trigger_name(t) + ":" + defrag::outcome_name(r.outcome));
  }
  void on_lock(bool) override {}
  void say(const std::string&) override {}
  FloorNotice notice;
  std::vector<std::string> notices;
  std::vector<std::string> runs;
};

// Three compact members (100 MB, 99.5 MB in use), a rule true for all, a 10 MB floor.
struct Fixture {
  Fixture() : cluster(compact_members(), 1), lock(store, lock_options()) {
    LoopSettings s;
    s.seeds = {kEtcd1, kEtcd2, kEtcd3};
    s.local_endpoint = kEtcd1;
    s.identity = kEtcd1;
    s.rule = *rule::Rule::parse("dbQuotaUsage > 0.04");
    s.min_interval = std::chrono::seconds(0);
    s.run.catch_up_timeout = std::chrono::seconds(5);
    s.run.min_reclaim.bytes = 10'000'000;
    loop = std::make_unique<DaemonLoop>(cluster, store, lock, clock, LoopHooks{}, s, observer);
  }
  static std::vector<test::FakeMember> compact_members() {
    auto members = test::three_members();
    for (auto& m : members) {
      m.db_size_in_use = 99'500'000;
      m.db_size_after = 99'500'000;
    }
    return members;
  }
  static coord::LockOptions lock_options() {
    coord::LockOptions o;
    o.identity = kEtcd1;
    return o;
  }
  FakeCluster cluster;
  FakeLockClient store;
  coord::LeaseLock lock;
  ManualClock clock;
  Recorder observer;
  std::unique_ptr<DaemonLoop> loop;
};

}  // namespace

TEST_CASE("loop: the floor holds back a full but compact cluster poll after poll, said once") {
  Fixture f;
  for (int poll = 0; poll < 5; ++poll) {
    const StepResult r = f.loop->step();
    CHECK(r.decision == Decision::kIdle);
    CHECK_THAT(r.reason, Contains("the reclaim floor holds back every member the rule fires for: "
                                  "etcd-1:2379, etcd-2:2379, etcd-3:2379"));
  }
  CHECK(f.cluster.events().empty());  // not even a compaction
  CHECK(f.observer.runs.empty());
  REQUIRE(f.observer.notices.size() == 1);
  CHECK_THAT(f.observer.notices[0], Contains("member etcd-2:2379 would give back 500 kB"));
  const PollView view = f.loop->last_view();
  REQUIRE(view.floors.size() == 3);
  CHECK(view.floors[0].holds_back);
  CHECK(view.floors[0].expected_reclaim == 500'000);
  CHECK(view.floors[0].floor_bytes == 10'000'000);
  // The rule's verdict is the rule's: it fires.
  CHECK(view.verdicts[0].action == defrag::Action::kDefragment);
}

TEST_CASE("loop: a member with something to reclaim is defragmented, the held-back ones are not") {
  Fixture f;
  CHECK(f.loop->step().decision == Decision::kIdle);
  f.cluster.edit(kEtcd2, [](test::FakeMember& m) { m.db_size_in_use = 40'000'000; });
  const StepResult r = f.loop->step();
  CHECK(r.decision == Decision::kRan);
  CHECK(f.cluster.events_starting_with("defragment") ==
        std::vector<std::string>{"defragment etcd-2:2379"});
  // The notice changed: two members are still held back.
  REQUIRE(f.observer.notices.size() == 2);
  CHECK_THAT(f.observer.notices[1], Contains("etcd-3:2379"));
  CHECK(f.observer.notices[1].find("etcd-2:2379") == std::string::npos);
}

TEST_CASE("loop: under NOSPACE the floor holds back nothing") {
  Fixture f;
  CHECK(f.loop->step().decision == Decision::kIdle);
  f.cluster.raise_alarm(2, etcd::AlarmType::kNoSpace);
  const StepResult r = f.loop->step();
  CHECK(r.decision == Decision::kRan);
  CHECK(f.cluster.events_starting_with("defragment").size() == 3);
  CHECK(f.observer.runs == std::vector<std::string>{"nospace:success"});
  CHECK_THAT(f.observer.notices.back(), Contains("no member is held back any more"));
}

TEST_CASE(
    "floor notice: once when it begins, again when it changes or ends, not on a failed poll") {
  FloorNotice n;
  PollView v;
  v.members.resize(2);
  v.members[0].endpoint = "a:2379";
  v.members[1].endpoint = "b:2379";
  v.floors.resize(2);
  CHECK(n.update(v).empty());  // nothing held back, nothing said
  v.floors[0] = {true, 1000, 5000, "member a:2379 would give back 1.0 kB"};
  CHECK_THAT(n.update(v), Contains("member a:2379 would give back 1.0 kB"));
  v.floors[0].reason = "member a:2379 would give back 1.2 kB";  // the figures move: no new line
  CHECK(n.update(v).empty());
  PollView failed;
  failed.error = "no member answered";
  CHECK(n.update(failed).empty());
  v.floors[1] = {true, 10, 5000, "member b:2379 would give back 10 B"};
  CHECK_THAT(n.update(v), Contains("b:2379"));
  v.floors[0].holds_back = false;
  v.floors[1].holds_back = false;
  CHECK(n.update(v) == "reclaim floor: no member is held back any more");
  CHECK(n.update(v).empty());
}
