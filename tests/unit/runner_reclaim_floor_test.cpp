// The runner and the reclaim floor: a member the rule picks but that would give back less than
// min_reclaim is skipped like a rule skip (not a failure), on its status at its turn; under NOSPACE
// every member is defragmented whatever the floor.
#include <catch2/catch.hpp>

#include "runner_test_support.h"

using Catch::Matchers::Contains;
using namespace edd;
using edd::test::FakeCluster;
using edd::test::kEtcd1;
using edd::test::kEtcd2;
using edd::test::kEtcd3;
using edd::test::report_of;
using edd::test::TestRun;
using edd::test::three_members;

namespace {

// etcd-2 is compact: 100 MB with 99.5 MB in use, 0.5 MB to give back. The others free 60 MB.
std::vector<test::FakeMember> one_compact_member() {
  auto members = three_members();
  members[1].db_size_in_use = 99'500'000;
  return members;
}

bool said_containing(const TestRun& t, const std::string& text) {
  return std::any_of(t.said.begin(), t.said.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("runner: the floor skips a compact member the rule picks, and says why") {
  FakeCluster fake(one_compact_member(), 1);
  TestRun t(fake);
  t.rule = test::parse_rule("dbQuotaUsage > 0.04");  // 100 MB of 2 GiB: true for every member
  t.options.min_reclaim.bytes = 10'000'000;
  const auto report = t.run();
  CHECK(report.outcome == defrag::Outcome::kSuccess);
  CHECK(report.exit_code() == 0);
  CHECK(fake.events_starting_with("defragment etcd-2").empty());
  CHECK(fake.events_starting_with("defragment").size() == 2);
  const auto& skipped = report_of(report, kEtcd2);
  CHECK(skipped.result == defrag::MemberResult::kSkipped);
  CHECK_THAT(skipped.message, Contains("would give back 500 kB"));
  CHECK_THAT(skipped.message, Contains("under the reclaim floor 10 MB"));
  CHECK(
      said_containing(t, "Skipping endpoint \"etcd-2:2379\": member etcd-2:2379 would give back"));
  CHECK(report_of(report, kEtcd1).result == defrag::MemberResult::kDefragmented);
  CHECK(report_of(report, kEtcd3).result == defrag::MemberResult::kDefragmented);
}

TEST_CASE("runner: without a floor (the CLI's default) the compact member is defragmented") {
  FakeCluster fake(one_compact_member(), 1);
  TestRun t(fake);
  t.rule = test::parse_rule("dbQuotaUsage > 0.04");
  const auto report = t.run();
  CHECK(report_of(report, kEtcd2).result == defrag::MemberResult::kDefragmented);
  CHECK(fake.events_starting_with("defragment").size() == 3);
}

TEST_CASE("runner: the floor is checked on the member's status at its turn, not the plan's") {
  FakeCluster fake(one_compact_member(), 1);
  TestRun t(fake);
  t.rule = test::parse_rule("dbQuotaUsage > 0.04");
  t.options.min_reclaim.bytes = 10'000'000;
  // What a compaction does to a member full of old revisions: pages become free before its turn.
  fake.after_next("compact", kEtcd3, [&] {  // compacted through etcd-3, the first to defragment
    fake.edit(kEtcd2, [](test::FakeMember& m) { m.db_size_in_use = 40'000'000; });
  });
  const auto report = t.run();
  CHECK(report_of(report, kEtcd2).result == defrag::MemberResult::kDefragmented);
}

TEST_CASE("runner: under NOSPACE the floor holds back no member") {
  FakeCluster fake(one_compact_member(), 1);
  fake.raise_alarm(2, etcd::AlarmType::kNoSpace);
  TestRun t(fake);
  t.options.min_reclaim.quota_ratio = 0.5;  // far above what any member would give back
  const auto report = t.run();
  CHECK(fake.events_starting_with("defragment").size() == 3);
  CHECK(report_of(report, kEtcd2).result == defrag::MemberResult::kDefragmented);
}

TEST_CASE("runner: a dry run shows the floor's skip in the plan") {
  FakeCluster fake(one_compact_member(), 1);
  TestRun t(fake);
  t.rule = test::parse_rule("dbQuotaUsage > 0.04");
  t.options.min_reclaim.bytes = 10'000'000;
  t.options.dry_run = true;
  t.run();
  CHECK(said_containing(t, "etcd-2:2379: skip (reclaim floor) — member etcd-2:2379 would give"));
  CHECK(fake.events().empty());
}
