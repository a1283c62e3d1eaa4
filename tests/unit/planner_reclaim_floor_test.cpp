// The reclaim floor: a member the rule picks is defragmented only if it would give back at least
// min_reclaim, except under NOSPACE; its spellings ("64MiB", "2%") and what a plan says of it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "defrag/planner.h"
#include "policy/reclaim_floor.h"

using Catch::Matchers::Contains;
using edd::defrag::Action;
using edd::defrag::check_reclaim_floor;
using edd::defrag::make_plan;
using edd::defrag::PlanPolicy;
using edd::etcd::MemberSnapshot;
using edd::etcd::MemberStatus;
using edd::policy::parse_reclaim_floor;
using edd::policy::ReclaimFloor;
using edd::rule::Rule;

namespace {

constexpr std::int64_t kMiB = 1024LL * 1024;
constexpr std::int64_t kGiB = 1024 * kMiB;

MemberSnapshot member(const std::string& endpoint, std::uint64_t id, std::int64_t db_size,
                      std::int64_t in_use) {
  MemberStatus st;
  st.endpoint = endpoint;
  st.cluster_id = 0xc1;
  st.member_id = id;
  st.leader_id = 3;
  st.db_size = db_size;
  st.db_size_in_use = in_use;
  MemberSnapshot m;
  m.endpoint = endpoint;
  m.status = st;
  m.quota_bytes = 2 * kGiB;
  return m;
}

Rule default_rule() {
  auto r = Rule::parse("dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024");
  REQUIRE(r.has_value());
  return *r;
}

ReclaimFloor percent(double p) {
  ReclaimFloor f;
  f.quota_ratio = p / 100;
  return f;
}

}  // namespace

TEST_CASE("the floor holds back a full but compact member the default rule picks") {
  // 85 % of a 2 GiB quota, 10 MiB free: the rule fires, a defrag would give back nothing.
  const auto m = member("etcd-1:2379", 1, 1825 * kMiB, 1815 * kMiB);
  const auto v = check_reclaim_floor(m.endpoint, *m.status, m.quota_bytes, percent(2), false);
  CHECK(v.holds_back);
  CHECK(v.expected_reclaim == 10 * kMiB);
  CHECK(v.floor_bytes == 42'949'673);  // 2 % of 2 GiB
  CHECK_THAT(v.reason, Contains("member etcd-1:2379 would give back 10 MB"));
  CHECK_THAT(v.reason, Contains("under the reclaim floor 43 MB (min_reclaim 2%)"));
}

TEST_CASE("the floor lets through a member that would give back at least the floor") {
  const auto m = member("etcd-1:2379", 1, 1825 * kMiB, 1700 * kMiB);
  const auto v = check_reclaim_floor(m.endpoint, *m.status, m.quota_bytes, percent(2), false);
  CHECK_FALSE(v.holds_back);
  CHECK(v.expected_reclaim == 125 * kMiB);
  CHECK(v.reason.empty());
  // Exactly the floor is enough.
  ReclaimFloor bytes;
  bytes.bytes = 125 * kMiB;
  CHECK_FALSE(check_reclaim_floor(m.endpoint, *m.status, m.quota_bytes, bytes, false).holds_back);
  bytes.bytes += 1;
  CHECK(check_reclaim_floor(m.endpoint, *m.status, m.quota_bytes, bytes, false).holds_back);
}

TEST_CASE("the floor never holds back a member while NOSPACE is raised") {
  const auto m = member("etcd-1:2379", 1, 2 * kGiB, 2 * kGiB - kMiB);
  CHECK(check_reclaim_floor(m.endpoint, *m.status, m.quota_bytes, percent(2), false).holds_back);
  CHECK_FALSE(
      check_reclaim_floor(m.endpoint, *m.status, m.quota_bytes, percent(2), true).holds_back);
}

TEST_CASE("no floor (the CLI's default) holds back nothing, not even an empty member") {
  const auto m = member("etcd-1:2379", 1, 20 * kMiB, 20 * kMiB);
  CHECK_FALSE(check_reclaim_floor(m.endpoint, *m.status, m.quota_bytes, {}, false).holds_back);
}

TEST_CASE("the default rule's 200 MiB branch still fires through a 2% floor on an 8 GiB quota") {
  auto m = member("etcd-1:2379", 1, 3 * kGiB, 3 * kGiB - 201 * kMiB);
  m.quota_bytes = 8 * kGiB;
  const auto plan = make_plan({m}, default_rule(), PlanPolicy{false, percent(2), false});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].action == Action::kDefragment);
}

TEST_CASE("the plan marks members the floor holds back, and only those the rule picked") {
  const std::vector<MemberSnapshot> view = {
      member("etcd-1:2379", 1, 1825 * kMiB, 1820 * kMiB),  // 85 %, compact: held back
      member("etcd-2:2379", 2, 1825 * kMiB, 1500 * kMiB),  // 85 %, 325 MiB free: defragmented
      member("etcd-3:2379", 3, 100 * kMiB, 99 * kMiB),     // the rule is false: the rule skips it
  };
  const auto plan = make_plan(view, default_rule(), PlanPolicy{false, percent(2), false});
  REQUIRE(plan.size() == 3);
  CHECK(plan[0].action == Action::kSkipFloor);
  CHECK_THAT(plan[0].reason, Contains("etcd-1:2379 would give back 5.2 MB"));
  CHECK(plan[1].action == Action::kDefragment);
  CHECK(plan[2].action == Action::kSkipRule);
  CHECK(edd::defrag::action_name(Action::kSkipFloor) == "skip (reclaim floor)");

  const auto nospace = make_plan(view, default_rule(), PlanPolicy{false, percent(2), true});
  CHECK(nospace[0].action == Action::kDefragment);
}

TEST_CASE("a floor is read as a size, a share of the quota or bytes") {
  CHECK(parse_reclaim_floor("64MiB")->bytes == 64 * kMiB);
  CHECK(parse_reclaim_floor(" 64 MiB ")->bytes == 64 * kMiB);
  CHECK(parse_reclaim_floor("50MB")->bytes == 50'000'000);
  CHECK(parse_reclaim_floor("512kB")->bytes == 512'000);
  CHECK(parse_reclaim_floor("1GiB")->bytes == kGiB);
  CHECK(parse_reclaim_floor("1.5GB")->bytes == 1'500'000'000);
  CHECK(parse_reclaim_floor("1048576")->bytes == 1048576);
  CHECK(parse_reclaim_floor("0")->is_zero());
  CHECK(parse_reclaim_floor("2%")->quota_ratio == Approx(0.02));
  CHECK(parse_reclaim_floor("0.5%")->quota_ratio == Approx(0.005));
  CHECK(parse_reclaim_floor("50%")->quota_ratio == Approx(0.5));
  for (const char* bad : {"", "MiB", "-1", "1e9", "64 parsecs", "51%", "2TiB", "1..2", "%"}) {
    INFO(bad);
    const auto r = parse_reclaim_floor(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == edd::ErrorCode::kInvalidArgument);
    CHECK_THAT(r.error().message, Contains("expected a size such as \"64MiB\""));
  }
  CHECK(edd::policy::to_string(percent(2)) == "2%");
  ReclaimFloor b;
  b.bytes = 64'000'000;
  CHECK(edd::policy::to_string(b) == "64 MB");
  CHECK(percent(2).bytes_for(0) == 0);
}
