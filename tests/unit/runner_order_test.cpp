// The runner's order of work: compaction first, followers one at a time, each caught up before
// the next, the leader last (or after leadership moved), learners skipped.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "defrag/runner.h"
#include "fake_cluster.h"
#include "runner_test_support.h"

using Catch::Matchers::Contains;
using edd::ManualClock;
using edd::defrag::MemberReport;
using edd::defrag::MemberResult;
using edd::defrag::Outcome;
using edd::defrag::Runner;
using edd::defrag::RunOptions;
using edd::defrag::RunReport;
using edd::rule::Rule;
using edd::test::FakeCluster;
using edd::test::FakeMember;
using edd::test::kEtcd1;
using edd::test::kEtcd2;
using edd::test::kEtcd3;
using edd::test::parse_rule;
using edd::test::report_of;
using edd::test::TestRun;
using edd::test::three_members;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Events = std::vector<std::string>;

TEST_CASE("the runner defragments followers one at a time and the leader last") {
  FakeCluster fake(three_members(), /*leader_id=*/1);
  TestRun t(fake);
  const RunReport report = t.run();

  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379",
                                "defragment etcd-3:2379", "defragment etcd-1:2379"});
  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(report.exit_code() == 0);
  CHECK(report.compacted_revision == 42);
  REQUIRE(report.members.size() == 3);
  CHECK(report.members[0].endpoint == kEtcd2);
  CHECK(report.members[1].endpoint == kEtcd3);
  CHECK(report.members[2].endpoint == kEtcd1);
  CHECK(report.members[2].was_leader);
  for (const auto& m : report.members) {
    INFO(m.endpoint);
    CHECK(m.result == MemberResult::kDefragmented);
    CHECK(m.db_size_before == 100'000'000);
    CHECK(m.db_size_after == 40'000'000);
  }
  CHECK(report.reclaimed_bytes() == 180'000'000);
  CHECK(report.hash_consistent == true);
  CHECK(fake.leader_id() == 1);
}

TEST_CASE("a rule that is false for every member changes nothing but compaction") {
  // Compaction runs first on purpose: the rule is evaluated on each member's status read after
  // it, when the compacted revisions have become free pages.
  FakeCluster fake(three_members(), 1);
  TestRun t(fake);
  t.rule = parse_rule("dbSize > 1000*1000*1000");
  const RunReport report = t.run();

  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42"});
  CHECK(report.outcome == Outcome::kSuccess);
  for (const auto& m : report.members) {
    INFO(m.endpoint);
    CHECK(m.result == MemberResult::kSkipped);
    CHECK_THAT(m.message, Contains("is false"));
  }
}

TEST_CASE("compaction is skipped when it is turned off") {
  FakeCluster fake(three_members(), 1);
  TestRun t(fake);
  t.options.compaction = false;
  const RunReport report = t.run();
  CHECK(fake.events() ==
        Events{"defragment etcd-2:2379", "defragment etcd-3:2379", "defragment etcd-1:2379"});
  CHECK_FALSE(report.compacted_revision.has_value());
}

TEST_CASE("the runner waits for a defragmented member to catch up before the next one") {
  auto members = three_members();
  members[1].lag_after_defrag = 6;  // etcd-2 applies one more entry per Status
  FakeCluster fake(members, 1);
  TestRun t(fake);
  t.options.poll_step = milliseconds(50);
  const auto start = t.clock.now();
  ManualClock::time_point etcd3_defragmented_at;
  fake.after_next("defragment", kEtcd3, [&] { etcd3_defragmented_at = t.clock.now(); });
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379",
                                "defragment etcd-3:2379", "defragment etcd-1:2379"});
  // Two polls found etcd-2 behind the leader before etcd-3 was touched.
  CHECK(etcd3_defragmented_at - start >= 2 * t.options.poll_step);
}

TEST_CASE("a member that does not catch up aborts the run after the catch-up timeout") {
  auto members = three_members();
  members[1].lag_after_defrag = 5;
  members[1].catch_up_per_status = 0;
  FakeCluster fake(members, 1);
  TestRun t(fake);
  t.options.catch_up_timeout = seconds(2);
  const auto start = t.clock.now();
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK_THAT(report.abort_reason, Contains(kEtcd2) && Contains("caught up") &&
                                      Contains("applied index 996 < leader's 1001"));
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379"});
  CHECK(t.clock.now() - start >= t.options.catch_up_timeout);
}

TEST_CASE("a follower that became leader mid-run is defragmented last") {
  FakeCluster fake(three_members(), 1);
  fake.after_next("defragment", kEtcd2, [&] { fake.set_leader(3); });
  TestRun t(fake);
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379",
                                "defragment etcd-1:2379", "defragment etcd-3:2379"});
  CHECK(report_of(report, kEtcd3).was_leader);
  CHECK_FALSE(report_of(report, kEtcd1).was_leader);
  CHECK(report_of(report, kEtcd3).result == MemberResult::kDefragmented);
}

TEST_CASE(
    "move-leader moves leadership to a defragmented caught-up follower before the "
    "leader's defrag") {
  FakeCluster fake(three_members(), 1);
  TestRun t(fake);
  t.options.move_leader = edd::policy::MoveLeader::kAlways;
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379",
                                "defragment etcd-3:2379", "move_leader etcd-1:2379 -> 2",
                                "defragment etcd-1:2379"});
  CHECK(report.leader_moved_to == 2u);
  CHECK(fake.leader_id() == 2);
  CHECK(report_of(report, kEtcd1).was_leader);
}

TEST_CASE("move-leader keeps leadership when no follower was defragmented") {
  auto members = three_members();
  members[0].db_size = 300'000'000;  // only the leader is big enough for the rule
  FakeCluster fake(members, 1);
  TestRun t(fake);
  t.options.move_leader = edd::policy::MoveLeader::kAlways;
  t.rule = parse_rule("dbSize > 200*1000*1000");
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(fake.events() == Events{"compact etcd-1:2379 rev=42", "defragment etcd-1:2379"});
  CHECK_FALSE(report.leader_moved_to.has_value());
  CHECK(fake.leader_id() == 1);
}

TEST_CASE("a failed leader move defragments the leader in place") {
  FakeCluster fake(three_members(), 1);
  fake.fail_next("move_leader", kEtcd1,
                 edd::make_error(edd::ErrorCode::kDeadlineExceeded,
                                 "etcd-1:2379: move leader: "
                                 "context deadline exceeded"));
  TestRun t(fake);
  t.options.move_leader = edd::policy::MoveLeader::kAlways;
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379",
                                "defragment etcd-3:2379", "move_leader etcd-1:2379 -> 2 failed",
                                "defragment etcd-1:2379"});
  CHECK_FALSE(report.leader_moved_to.has_value());
}

TEST_CASE("wait-between-defrags sleeps on the clock between members") {
  FakeCluster fake(three_members(), 1);
  TestRun t(fake);
  t.options.wait_between_defrags = seconds(30);
  std::vector<ManualClock::time_point> defragmented_at;
  for (const char* ep : {kEtcd2, kEtcd3, kEtcd1}) {
    fake.after_next("defragment", ep, [&] { defragmented_at.push_back(t.clock.now()); });
  }
  const auto start = t.clock.now();
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kSuccess);
  REQUIRE(defragmented_at.size() == 3);
  CHECK(defragmented_at[1] - defragmented_at[0] >= seconds(30));
  CHECK(defragmented_at[2] - defragmented_at[1] >= seconds(30));
  CHECK(t.clock.now() - start >= 2 * seconds(30));
  CHECK(report.total >= 2 * seconds(30));
}

TEST_CASE("learners are skipped") {
  auto members = three_members();
  FakeMember learner = edd::test::fake_member("etcd-4:2379", 4, "etcd-4");
  learner.is_learner = true;
  members.push_back(learner);
  FakeCluster fake(members, 1);
  TestRun t(fake);
  const RunReport report = t.run({kEtcd1, "etcd-4:2379", kEtcd2, kEtcd3});

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379",
                                "defragment etcd-3:2379", "defragment etcd-1:2379"});
  CHECK(report_of(report, "etcd-4:2379").result == MemberResult::kSkipped);
  CHECK_THAT(report_of(report, "etcd-4:2379").message, Contains("learner"));
  CHECK(fake.calls("health", "etcd-4:2379") == 0);  // a learner cannot serve the health read
  CHECK(report.hash_consistent == true);
}

TEST_CASE("compaction goes through a voter when a learner comes first and the rule skips all",
          "[runner]") {
  // etcd answers a learner's compaction with "rpc not supported for learner".
  auto members = three_members();
  FakeMember learner = edd::test::fake_member("etcd-4:2379", 4, "etcd-4");
  learner.is_learner = true;
  members.push_back(learner);
  FakeCluster fake(members, 1);
  TestRun t(fake);
  t.rule = parse_rule("dbSize > 1000*1000*1000");
  const RunReport report = t.run({"etcd-4:2379", kEtcd1, kEtcd2, kEtcd3});

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42"});
}

TEST_CASE("a member reachable at two endpoints is defragmented once") {
  auto members = three_members();
  members[0].more_endpoints = {"10.0.0.1:2379"};
  FakeCluster fake(members, 1);
  TestRun t(fake);
  t.options.cluster = true;  // MemberList gives both of etcd-1's client URLs
  const RunReport report = t.run({kEtcd2});

  // The URLs are sorted as etcd-defrag sorts them, so etcd-1 goes by its first one, 10.0.0.1.
  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379",
                                "defragment etcd-3:2379", "defragment 10.0.0.1:2379"});
  CHECK(report.members.size() == 3);
}

TEST_CASE("a big member's defrag is given minutes, a small one's the command timeout") {
  auto members = three_members();
  members[1].db_size = 8LL * 1024 * 1024 * 1024;
  members[2].db_size = 1'000'000;
  FakeCluster fake(members, 1);
  TestRun t(fake);
  t.options.command_timeout = seconds(45);
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(fake.last_defrag_timeout(kEtcd2) >= std::chrono::minutes(10));
  CHECK(fake.last_defrag_timeout(kEtcd3) == seconds(45));
}

TEST_CASE("a rule that cannot be evaluated fails each member and the run, defragmenting none") {
  FakeCluster fake(three_members(), 1);
  TestRun t(fake);
  t.rule = parse_rule("dbSize % 0 == 1");
  const RunReport report = t.run();
  CHECK(report.outcome == Outcome::kFailed);
  CHECK(report.exit_code() == 1);
  for (const auto& m : report.members) {
    CHECK(m.result == MemberResult::kFailed);
    CHECK_THAT(m.message, Catch::Contains("zero"));
  }
  CHECK(fake.events_starting_with("defragment").empty());
}

TEST_CASE("auto move-leader moves only when the leader's expected stall is long") {
  // Followers took 1 s each for 100 MB in use: 100 MB/s. The leader holds 300 MB in use.
  auto members = three_members();
  for (auto& m : members) {
    m.db_size_in_use = m.id == 1 ? 300'000'000 : 100'000'000;
    m.defrag_takes = std::chrono::seconds(1);
  }
  FakeCluster fake(members, 1);
  TestRun t(fake);
  fake.use_clock(t.clock);
  t.options.move_leader = edd::policy::MoveLeader::kAuto;
  SECTION("expected 3 s, threshold 1 s: move") {
    t.options.move_leader_min_stall = std::chrono::seconds(1);
    const RunReport report = t.run();
    CHECK(report.leader_moved_to.has_value());
  }
  SECTION("expected 3 s, threshold 5 s: stay") {
    t.options.move_leader_min_stall = std::chrono::seconds(5);
    const RunReport report = t.run();
    CHECK_FALSE(report.leader_moved_to.has_value());
    CHECK(fake.events_starting_with("move_leader").empty());
  }
}
