// When the runner stops (at the health gate, or before each member): an unhealthy or corrupt
// cluster is left untouched, a dry run touches nothing, a failure stops the run or is reported, a
// member that goes away mid-run stops it before the next member, and before_step can stop it at
// any step.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "defrag/runner.h"
#include "fake_cluster.h"
#include "runner_test_support.h"

using Catch::Matchers::Contains;
using edd::ErrorCode;
using edd::make_error;
using edd::ManualClock;
using edd::Status;
using edd::defrag::MemberReport;
using edd::defrag::MemberResult;
using edd::defrag::Outcome;
using edd::defrag::Runner;
using edd::defrag::RunOptions;
using edd::defrag::RunReport;
using edd::etcd::AlarmType;
using edd::rule::Rule;
using edd::test::FakeCluster;
using edd::test::kEtcd1;
using edd::test::kEtcd2;
using edd::test::kEtcd3;
using edd::test::parse_rule;
using edd::test::report_of;
using edd::test::TestRun;
using edd::test::three_members;
using Events = std::vector<std::string>;

namespace {

edd::Error timeout(const std::string& endpoint) {
  return make_error(ErrorCode::kDeadlineExceeded,
                    endpoint + ": defragment: context deadline exceeded");
}

}  // namespace

TEST_CASE("an unreachable member aborts the run before compaction") {
  FakeCluster fake(three_members(), 1);
  fake.make_unreachable(kEtcd3);
  TestRun t(fake);
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK(report.exit_code() == 1);
  CHECK_THAT(report.abort_reason, Contains("nothing was changed") && Contains(kEtcd3));
  CHECK(fake.events().empty());
  CHECK_FALSE(fake.compacted_revision().has_value());
}

TEST_CASE("a member missing from the endpoints still gates the run") {
  // Only etcd-1 and etcd-2 are to be defragmented, but etcd-3 is down: blocking a member now
  // could cost quorum.
  FakeCluster fake(three_members(), 1);
  fake.fail_always("health", kEtcd3, FakeCluster::refused(kEtcd3, "health check"));
  TestRun t(fake);
  const RunReport report = t.run({kEtcd1, kEtcd2});

  CHECK(report.outcome == Outcome::kAborted);
  CHECK_THAT(report.abort_reason, Contains(kEtcd3));
  CHECK(fake.events().empty());
}

TEST_CASE("a CORRUPT alarm aborts before anything changes") {
  FakeCluster fake(three_members(), 1);
  fake.raise_alarm(2, AlarmType::kCorrupt);
  TestRun t(fake);
  t.options.auto_disalarm = true;
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK_THAT(report.abort_reason, Contains("CORRUPT") && Contains("member 2"));
  CHECK(fake.events().empty());
  CHECK(fake.active_alarms().size() == 1);
}

TEST_CASE("a cluster in the middle of an election is left alone") {
  auto members = three_members();
  members[2].sees_leader = 0;
  FakeCluster fake(members, 1);
  TestRun t(fake);
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK_THAT(report.abort_reason, Contains("no leader"));
  CHECK(fake.events().empty());
}

TEST_CASE("dry run changes nothing") {
  FakeCluster fake(three_members(), 1);
  fake.raise_alarm(1, AlarmType::kNoSpace);
  TestRun t(fake);
  t.options.dry_run = true;
  t.options.move_leader = edd::policy::MoveLeader::kAlways;
  t.options.auto_disalarm = true;
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kDryRun);
  CHECK(report.exit_code() == 0);
  CHECK(fake.events().empty());
  CHECK(fake.active_alarms().size() == 1);
  CHECK(fake.leader_id() == 1);
  REQUIRE(report.members.size() == 3);
  CHECK(report.members[2].endpoint == kEtcd1);  // the plan still puts the leader last
  for (const auto& m : report.members) {
    INFO(m.endpoint);
    CHECK(m.result == MemberResult::kSkipped);
    CHECK(m.message == "dry run: would defragment");
  }
}

TEST_CASE("continue-on-error=false stops after the first failed member") {
  FakeCluster fake(three_members(), 1);
  fake.fail_next("defragment", kEtcd2, timeout(kEtcd2));
  TestRun t(fake);
  t.options.continue_on_error = false;
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kFailed);
  CHECK(report.exit_code() == 1);
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379 failed"});
  CHECK(report_of(report, kEtcd2).result == MemberResult::kFailed);
  CHECK_THAT(report_of(report, kEtcd2).message, Contains("context deadline exceeded"));
  CHECK(report_of(report, kEtcd3).result == MemberResult::kNotReached);
  CHECK(report_of(report, kEtcd1).result == MemberResult::kNotReached);
  CHECK_THAT(report.abort_reason, Contains("--continue-on-error=false"));
}

TEST_CASE("continue-on-error=true goes on after a failed defrag and reports failure") {
  FakeCluster fake(three_members(), 1);
  fake.fail_next("defragment", kEtcd2, timeout(kEtcd2));
  TestRun t(fake);
  t.options.continue_on_error = true;
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kFailed);
  CHECK(report.exit_code() == 1);
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379 failed",
                                "defragment etcd-3:2379", "defragment etcd-1:2379"});
  CHECK(report_of(report, kEtcd2).result == MemberResult::kFailed);
  CHECK(report_of(report, kEtcd3).result == MemberResult::kDefragmented);
  CHECK(report_of(report, kEtcd1).result == MemberResult::kDefragmented);
  CHECK(report.reclaimed_bytes() == 120'000'000);
}

TEST_CASE("a rule that cannot be evaluated on a member is that member's failure") {
  // Division by zero only on etcd-2, the first follower: dbSize - 90000000 is 0 there.
  auto members = three_members();
  members[1].db_size = 90'000'000;
  SECTION("continue-on-error=false stops the run there, as etcd-defrag does") {
    FakeCluster fake(members, 1);
    TestRun t(fake);
    t.rule = parse_rule("1 / (dbSize - 90000000) != 0");
    t.options.continue_on_error = false;
    const RunReport report = t.run();

    CHECK(report.outcome == Outcome::kFailed);
    CHECK(report.exit_code() == 1);
    // Compaction goes through the first member the plan defragments.
    CHECK(fake.events() == Events{"compact etcd-3:2379 rev=42"});
    CHECK(report_of(report, kEtcd2).result == MemberResult::kFailed);
    CHECK(report_of(report, kEtcd3).result == MemberResult::kNotReached);
    CHECK_THAT(report.abort_reason, Contains("--continue-on-error=false"));
  }
  SECTION("continue-on-error=true goes on and exits 1") {
    FakeCluster fake(members, 1);
    TestRun t(fake);
    t.rule = parse_rule("1 / (dbSize - 90000000) != 0");
    const RunReport report = t.run();

    CHECK(report.outcome == Outcome::kFailed);
    CHECK(fake.events() ==
          Events{"compact etcd-3:2379 rev=42", "defragment etcd-3:2379", "defragment etcd-1:2379"});
    CHECK(report_of(report, kEtcd2).result == MemberResult::kFailed);
  }
}

TEST_CASE("a member that fails its health check mid-run stops the run before the next member") {
  FakeCluster fake(three_members(), 1);
  fake.after_next("defragment", kEtcd2, [&] {
    fake.fail_always("health", kEtcd3,
                     make_error(ErrorCode::kDeadlineExceeded,
                                "etcd-3:2379: health check: context deadline exceeded"));
  });
  TestRun t(fake);
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK_THAT(report.abort_reason, Contains(kEtcd3) && Contains("became unhealthy"));
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379"});
  CHECK(report_of(report, kEtcd1).result == MemberResult::kNotReached);
}

TEST_CASE("a member that does not come back after its defrag stops the run") {
  FakeCluster fake(three_members(), 1);
  fake.after_next("defragment", kEtcd2, [&] { fake.make_unreachable(kEtcd2); });
  TestRun t(fake);
  t.options.catch_up_timeout = std::chrono::seconds(5);
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK_THAT(report.abort_reason, Contains(kEtcd2) && Contains("failed to connect"));
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379"});
}

TEST_CASE("a member that dies in its defrag stops the run after one command timeout") {
  FakeCluster fake(three_members(), 1);
  fake.fail_next("defragment", kEtcd2, make_error(ErrorCode::kUnavailable, "Socket closed"));
  fake.after_next("defragment", kEtcd2, [&] { fake.make_unreachable(kEtcd2); });
  TestRun t(fake);
  t.options.command_timeout = std::chrono::seconds(3);
  t.options.catch_up_timeout = std::chrono::seconds(60);
  const auto start = t.clock.now();
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK_THAT(report.abort_reason, Contains(kEtcd2) && Contains("after 3s"));
  CHECK(report_of(report, kEtcd2).result == MemberResult::kFailed);
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379 failed"});
  const auto waited = t.clock.now() - start;
  CHECK(waited >= std::chrono::seconds(3));
  CHECK(waited < std::chrono::seconds(10));
}

TEST_CASE("the before_step hook stops the run before the next destructive step") {
  FakeCluster fake(three_members(), 1);
  TestRun t(fake);
  int asked = 0;
  t.options.before_step = [&]() -> Status {
    // Allowed: compaction, etcd-2's defrag; then the lock is lost.
    if (++asked >= 3) return make_error(ErrorCode::kFailedPrecondition, "lost the lock");
    return {};
  };
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK(report.abort_reason == "stopped before defragmenting: lost the lock");
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379"});
  CHECK(asked == 3);
}

TEST_CASE("a before_step refusal at the first step changes nothing") {
  FakeCluster fake(three_members(), 1);
  TestRun t(fake);
  t.options.before_step = []() -> Status {
    return make_error(ErrorCode::kFailedPrecondition, "lost the lock");
  };
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK(report.abort_reason == "stopped before compaction: lost the lock, nothing was changed");
  CHECK(fake.events().empty());
}

TEST_CASE("a failed compaction aborts before any defrag") {
  FakeCluster fake(three_members(), 1);
  fake.fail_next(
      "compact", kEtcd2,
      make_error(ErrorCode::kDeadlineExceeded, "etcd-2:2379: compact: context deadline exceeded"));
  TestRun t(fake);
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK_THAT(report.abort_reason, Contains("compaction failed") && Contains(kEtcd2));
  CHECK(fake.events() == Events{"compact etcd-2:2379 rev=42 failed"});
}

TEST_CASE("a member that has not started yet aborts the run before anything changes") {
  auto members = three_members();
  members.push_back(edd::test::fake_member("etcd-4:2379", 4, "etcd-4"));
  members.back().started = false;
  FakeCluster fake(members, 1);
  TestRun t(fake);
  const RunReport report = t.run();

  CHECK(report.outcome == Outcome::kAborted);
  CHECK_THAT(report.abort_reason, Contains("has no client URL"));
  CHECK(fake.events().empty());
}
