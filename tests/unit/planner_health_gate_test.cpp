// The health gate, checked before anything changes: one cluster, one leader, every member
// answering, and no alarm but NOSPACE; every problem is one reason naming the member.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "defrag/planner.h"

using edd::defrag::check_health_gate;
using edd::defrag::GateVerdict;
using edd::defrag::HealthCheck;
using edd::etcd::Alarm;
using edd::etcd::AlarmType;
using edd::etcd::MemberSnapshot;
using edd::etcd::MemberStatus;

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
  m.status = st;
  m.quota_bytes = 2LL * 1024 * 1024 * 1024;
  return m;
}

// etcd-1 (ID 1, the leader), etcd-2 and etcd-3.
std::vector<MemberSnapshot> three_members() {
  return {member("etcd-1:2379", 1, 1), member("etcd-2:2379", 2, 1), member("etcd-3:2379", 3, 1)};
}

std::vector<HealthCheck> all_healthy(const std::vector<MemberSnapshot>& view) {
  std::vector<HealthCheck> out;
  for (const auto& m : view) out.push_back({m.endpoint, true, ""});
  return out;
}

// The gate's reasons as one line, for CHECK_THAT.
std::string reasons(const GateVerdict& v) {
  std::string out;
  for (const auto& r : v.reasons) out += r + "\n";
  return out;
}

using Catch::Matchers::Contains;

}  // namespace

TEST_CASE("the health gate passes a healthy cluster with one leader and no alarm") {
  const auto view = three_members();
  const GateVerdict v = check_health_gate(view, all_healthy(view), {});
  CHECK(v.ok);
  CHECK(v.reasons.empty());
  CHECK_FALSE(v.nospace_active);
}

TEST_CASE("the health gate stops at an unhealthy member and names it") {
  const auto view = three_members();
  auto health = all_healthy(view);
  health[1] = {"etcd-2:2379", false, "context deadline exceeded"};
  const GateVerdict v = check_health_gate(view, health, {});
  CHECK_FALSE(v.ok);
  REQUIRE(v.reasons.size() == 1);
  CHECK_THAT(v.reasons[0], Contains("etcd-2:2379") && Contains("context deadline exceeded"));
}

TEST_CASE("the health gate stops at a member that did not answer status") {
  auto view = three_members();
  view[2].status.reset();
  view[2].error = "etcd-3:2379: status: failed to connect to all addresses";
  const GateVerdict v = check_health_gate(view, all_healthy(view), {});
  CHECK_FALSE(v.ok);
  REQUIRE(v.reasons.size() == 1);
  CHECK_THAT(v.reasons[0], Contains("etcd-3:2379") && Contains("did not answer status") &&
                               Contains("failed to connect"));
}

TEST_CASE("the health gate refuses endpoints of two different clusters") {
  auto view = three_members();
  view[2].status->cluster_id = 0xc2;
  const GateVerdict v = check_health_gate(view, all_healthy(view), {});
  CHECK_FALSE(v.ok);
  CHECK_THAT(reasons(v), Contains("different clusters"));
}

TEST_CASE("the health gate refuses members that disagree on the leader") {
  auto view = three_members();
  view[2].status->leader_id = 3;
  const GateVerdict v = check_health_gate(view, all_healthy(view), {});
  CHECK_FALSE(v.ok);
  CHECK_THAT(reasons(v), Contains("disagree on the leader"));
}

TEST_CASE("the health gate refuses a member that reports no leader") {
  auto view = three_members();
  view[0].status->leader_id = 0;
  const GateVerdict v = check_health_gate(view, all_healthy(view), {});
  CHECK_FALSE(v.ok);
  CHECK_THAT(reasons(v), Contains("no leader"));
}

TEST_CASE("the health gate ignores a learner's view of the leader") {
  auto view = three_members();
  view.push_back(member("etcd-4:2379", 4, 0));
  view.back().status->is_learner = true;
  const GateVerdict v = check_health_gate(view, all_healthy(view), {});
  CHECK(v.ok);
}

TEST_CASE("the health gate tolerates NOSPACE and flags it") {
  const auto view = three_members();
  const GateVerdict v = check_health_gate(
      view, all_healthy(view), {Alarm{1, AlarmType::kNoSpace}, Alarm{3, AlarmType::kNoSpace}});
  CHECK(v.ok);
  CHECK(v.reasons.empty());
  CHECK(v.nospace_active);
}

TEST_CASE("the health gate refuses a cluster with the CORRUPT alarm and names the member") {
  const auto view = three_members();
  const GateVerdict v = check_health_gate(
      view, all_healthy(view), {Alarm{1, AlarmType::kNoSpace}, Alarm{0xab, AlarmType::kCorrupt}});
  CHECK_FALSE(v.ok);
  REQUIRE(v.reasons.size() == 1);
  CHECK_THAT(v.reasons[0], Contains("CORRUPT") && Contains("member ab"));
}

TEST_CASE("the health gate refuses an alarm it does not know") {
  const auto view = three_members();
  const GateVerdict v = check_health_gate(view, all_healthy(view), {Alarm{2, AlarmType::kUnknown}});
  CHECK_FALSE(v.ok);
  REQUIRE(v.reasons.size() == 1);
  CHECK_THAT(v.reasons[0], Contains("unknown alarm") && Contains("member 2"));
}

TEST_CASE("the health gate gives one reason per problem") {
  auto view = three_members();
  view[2].status.reset();
  view[2].error = "refused";
  auto health = all_healthy(view);
  health[1].healthy = false;
  health[1].error = "timeout";
  const GateVerdict v = check_health_gate(view, health, {Alarm{1, AlarmType::kCorrupt}});
  CHECK_FALSE(v.ok);
  CHECK(v.reasons.size() == 3);
}
