// The plan of a run: one entry per member, followers in the given order, the leader last, and
// each member's action with a reason (the rule's verdict, learner, excluded).
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "defrag/planner.h"

using Catch::Matchers::Contains;
using edd::defrag::Action;
using edd::defrag::make_plan;
using edd::defrag::PlannedMember;
using edd::defrag::PlanPolicy;
using edd::etcd::MemberSnapshot;
using edd::etcd::MemberStatus;
using edd::rule::Rule;

namespace {

MemberSnapshot member(const std::string& endpoint, std::uint64_t id, std::uint64_t leader_id) {
  MemberStatus st;
  st.endpoint = endpoint;
  st.cluster_id = 0xc1;
  st.member_id = id;
  st.leader_id = leader_id;
  st.db_size = 100'000'000;
  st.db_size_in_use = 40'000'000;
  MemberSnapshot m;
  m.endpoint = endpoint;
  m.name = "etcd-" + std::to_string(id);
  m.status = st;
  m.quota_bytes = 2LL * 1024 * 1024 * 1024;
  return m;
}

Rule rule(std::string_view text) {
  auto r = Rule::parse(text);
  INFO(text << (r ? "" : ": " + r.error().message));
  REQUIRE(r.has_value());
  return *r;
}

std::vector<std::string> endpoints(const std::vector<PlannedMember>& plan) {
  std::vector<std::string> out;
  for (const auto& p : plan) out.push_back(p.endpoint);
  return out;
}

}  // namespace

TEST_CASE("the plan puts the leader last and keeps the followers in the given order") {
  const std::vector<MemberSnapshot> view = {member("a:2379", 1, 2), member("b:2379", 2, 2),
                                            member("c:2379", 3, 2), member("d:2379", 4, 2)};
  const auto plan = make_plan(view, Rule(), {});
  CHECK(endpoints(plan) == std::vector<std::string>{"a:2379", "c:2379", "d:2379", "b:2379"});
  REQUIRE(plan.size() == 4);
  CHECK_FALSE(plan[0].is_leader);
  CHECK(plan[3].is_leader);
  CHECK(plan[3].member_id == 2);
  CHECK(plan[3].name == "etcd-2");
  for (const auto& p : plan) {
    CHECK(p.action == Action::kDefragment);
    CHECK(p.reason == "no rule: always");
  }
}

TEST_CASE("the plan collapses two endpoints of the same member to the first") {
  const std::vector<MemberSnapshot> view = {
      member("etcd-1:2379", 1, 1), member("10.0.0.1:2379", 1, 1), member("etcd-2:2379", 2, 1)};
  const auto plan = make_plan(view, Rule(), {});
  CHECK(endpoints(plan) == std::vector<std::string>{"etcd-2:2379", "etcd-1:2379"});
}

TEST_CASE("the plan leaves out an endpoint that did not answer status") {
  std::vector<MemberSnapshot> view = {member("a:2379", 1, 1), member("b:2379", 2, 1)};
  view[1].status.reset();
  CHECK(endpoints(make_plan(view, Rule(), {})) == std::vector<std::string>{"a:2379"});
}

TEST_CASE("the plan marks learners to be skipped without asking the rule") {
  std::vector<MemberSnapshot> view = {member("a:2379", 1, 1), member("l:2379", 4, 1)};
  view[1].status->is_learner = true;
  // The rule fails on every member (division by zero); the learner must not even ask it.
  const auto plan = make_plan(view, rule("dbSize / (dbSize - dbSize) > 1"), {});
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].endpoint == "l:2379");
  CHECK(plan[0].action == Action::kSkipLearner);
  CHECK_THAT(plan[0].reason, Contains("learner"));
  CHECK(plan[1].action == Action::kRuleError);
}

TEST_CASE("the plan marks loopback endpoints, and nothing else, under --exclude-localhost") {
  const std::vector<MemberSnapshot> view = {
      member("127.0.0.1:2379", 1, 4), member("http://localhost:2379", 2, 4),
      member("[::1]:2379", 3, 4), member("https://etcd-4:2379", 4, 4)};
  const auto plan = make_plan(view, Rule(), PlanPolicy{.exclude_localhost = true});
  REQUIRE(plan.size() == 4);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO(plan[i].endpoint);
    CHECK(plan[i].action == Action::kExcluded);
    CHECK_THAT(plan[i].reason, Contains("--exclude-localhost"));
  }
  CHECK(plan[3].endpoint == "https://etcd-4:2379");
  CHECK(plan[3].action == Action::kDefragment);

  for (const auto& p : make_plan(view, Rule(), {})) CHECK(p.action == Action::kDefragment);
}

TEST_CASE("a rule that is false skips the member with a reason naming the figures") {
  const std::vector<MemberSnapshot> view = {member("a:2379", 1, 1)};
  const auto plan = make_plan(view, rule("dbSize > 200*1000*1000"), {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].action == Action::kSkipRule);
  CHECK_THAT(plan[0].reason, Contains("dbSize > 200*1000*1000") && Contains("is false") &&
                                 Contains("dbSize 100 MB") && Contains("in use 40 MB") &&
                                 Contains("quota 2.1 GB"));
}

TEST_CASE("a rule that is true defragments the member with a reason naming the figures") {
  const std::vector<MemberSnapshot> view = {member("a:2379", 1, 1)};
  const auto plan = make_plan(view, rule("dbSizeFree > 50*1000*1000"), {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].action == Action::kDefragment);
  CHECK_THAT(plan[0].reason, Contains("is true") && Contains("dbSize 100 MB"));
}

TEST_CASE("the rule sees each member's own quota") {
  std::vector<MemberSnapshot> view = {member("a:2379", 1, 3), member("b:2379", 2, 3),
                                      member("c:2379", 3, 3)};
  view[1].quota_bytes = 150'000'000;  // 100 MB of 150 MB: 67 % used
  const auto plan = make_plan(view, rule("dbQuotaUsage > 0.5"), {});
  REQUIRE(plan.size() == 3);
  CHECK(plan[0].action == Action::kSkipRule);
  CHECK(plan[1].action == Action::kDefragment);
  CHECK_THAT(plan[1].reason, Contains("quota 150 MB"));
  CHECK(plan[2].action == Action::kSkipRule);
}

TEST_CASE("a rule that cannot be evaluated on a member marks it as a rule error") {
  const std::vector<MemberSnapshot> view = {member("a:2379", 1, 1)};
  const auto plan = make_plan(view, rule("dbSize / (dbSizeInUse - dbSizeInUse) > 1"), {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].action == Action::kRuleError);
  CHECK_THAT(plan[0].reason, Contains("division by zero"));
}

TEST_CASE("every action has a name for the plan's printout") {
  CHECK(edd::defrag::action_name(Action::kDefragment) == "defragment");
  CHECK(edd::defrag::action_name(Action::kSkipRule) == "skip (rule)");
  CHECK(edd::defrag::action_name(Action::kRuleError) == "skip (rule error)");
  CHECK(edd::defrag::action_name(Action::kSkipLearner) == "skip (learner)");
  CHECK(edd::defrag::action_name(Action::kExcluded) == "skip (excluded)");
}
