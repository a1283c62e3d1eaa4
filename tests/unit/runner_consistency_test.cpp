// The consistency check after a run: HashKV at one common revision must give the same hash on
// every voting member, or the run fails.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "defrag/runner.h"
#include "fake_cluster.h"

using Catch::Matchers::Contains;
using edd::ManualClock;
using edd::defrag::Outcome;
using edd::defrag::Runner;
using edd::defrag::RunOptions;
using edd::defrag::RunReport;
using edd::rule::Rule;
using edd::test::FakeCluster;
using edd::test::kEtcd1;
using edd::test::kEtcd2;
using edd::test::kEtcd3;
using edd::test::three_members;

namespace {

RunReport run(FakeCluster& fake, const RunOptions& options = {}) {
  ManualClock clock;
  Runner runner(fake, clock, Rule(), options, [](const std::string&) {});
  return runner.run({kEtcd1, kEtcd2, kEtcd3});
}

}  // namespace

TEST_CASE("equal hashes at one revision on every member pass the consistency check") {
  FakeCluster fake(three_members(), 1);
  const RunReport report = run(fake);

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK(report.hash_consistent == true);
  CHECK_THAT(report.hash_note, Contains("revision 42") && Contains("on all 3 members"));
  for (const char* ep : {kEtcd1, kEtcd2, kEtcd3}) CHECK(fake.calls("hash_kv", ep) == 1);
}

TEST_CASE("a HashKV mismatch fails the run") {
  auto members = three_members();
  members[2].hash = 0xbad;
  FakeCluster fake(members, 1);
  const RunReport report = run(fake);

  CHECK(report.outcome == Outcome::kFailed);
  CHECK(report.exit_code() == 1);
  CHECK(report.hash_consistent == false);
  CHECK_THAT(report.hash_note,
             Contains("HASH MISMATCH at revision 42") && Contains("etcd-3:2379=2989"));
}

TEST_CASE("a member that cannot hash leaves the check inconclusive, not failed") {
  FakeCluster fake(three_members(), 1);
  fake.fail_always("hash_kv", kEtcd2,
                   edd::make_error(edd::ErrorCode::kDeadlineExceeded,
                                   "etcd-2:2379: hashkv: context deadline exceeded"));
  const RunReport report = run(fake);

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK_FALSE(report.hash_consistent.has_value());
  CHECK_THAT(report.hash_note, Contains("not conclusive") && Contains(kEtcd2));
}

TEST_CASE("no HashKV is asked when the consistency check is off") {
  FakeCluster fake(three_members(), 1);
  RunOptions options;
  options.consistency_check = false;
  const RunReport report = run(fake, options);

  CHECK(report.outcome == Outcome::kSuccess);
  CHECK_FALSE(report.hash_consistent.has_value());
  for (const char* ep : {kEtcd1, kEtcd2, kEtcd3}) CHECK(fake.calls("hash_kv", ep) == 0);
}
