// The planner's smaller decisions: how long a defrag may take, whether NOSPACE may be disarmed
// after the run and which follower may take leadership before the leader is defragmented.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "defrag/planner.h"

using Catch::Matchers::Contains;
using edd::defrag::choose_leader_target;
using edd::defrag::decide_disarm;
using edd::defrag::defrag_timeout;
using edd::defrag::DisarmDecision;
using edd::defrag::LeaderCandidate;
using edd::etcd::Alarm;
using edd::etcd::AlarmType;
using edd::etcd::MemberSnapshot;
using edd::etcd::MemberStatus;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

constexpr std::int64_t kGiB = 1024LL * 1024 * 1024;

MemberSnapshot member(const std::string& endpoint, std::uint64_t id, std::int64_t db_size) {
  MemberStatus st;
  st.endpoint = endpoint;
  st.member_id = id;
  st.leader_id = 1;
  st.db_size = db_size;
  MemberSnapshot m;
  m.endpoint = endpoint;
  m.status = st;
  m.quota_bytes = 2 * kGiB;
  return m;
}

// Three members of 1 GiB each: well under 90 % of their 2 GiB quota.
std::vector<MemberSnapshot> three_small_members() {
  return {member("etcd-1:2379", 1, kGiB), member("etcd-2:2379", 2, kGiB),
          member("etcd-3:2379", 3, kGiB)};
}

LeaderCandidate candidate(std::uint64_t id, std::uint64_t applied) {
  LeaderCandidate c;
  c.member_id = id;
  c.defragmented = true;
  c.healthy = true;
  c.raft_applied_index = applied;
  return c;
}

}  // namespace

TEST_CASE("a defrag is never given less time than the command timeout") {
  CHECK(defrag_timeout(0, seconds(45)) == seconds(45));
  CHECK(defrag_timeout(1'000'000, minutes(2)) == minutes(2));
  CHECK(defrag_timeout(-5, seconds(5)) == seconds(30));  // a nonsense size gets the base
}

TEST_CASE("a defrag's timeout grows with the member's size") {
  CHECK(defrag_timeout(0, seconds(5)) == seconds(30));
  CHECK(defrag_timeout(1'000'000'000, seconds(5)) == seconds(130));
  CHECK(defrag_timeout(2'000'000'000, seconds(5)) > defrag_timeout(1'000'000'000, seconds(5)));
}

TEST_CASE("an 8 GiB member gets minutes to defragment, not etcdctl's 5 seconds") {
  const milliseconds t = defrag_timeout(8 * kGiB, seconds(5));
  CHECK(t >= minutes(10));
  CHECK(t <= minutes(30));
}

TEST_CASE("without a NOSPACE alarm there is nothing to disarm") {
  const DisarmDecision d = decide_disarm(three_small_members(), {}, 0.9);
  CHECK_FALSE(d.disarm);
  CHECK(d.alarms.empty());
  CHECK(d.reason == "no NOSPACE alarm");
  CHECK_FALSE(d.refused);  // nothing to say in the log
}

TEST_CASE(
    "NOSPACE is disarmed once per member that raised it when every member is under the "
    "threshold") {
  const DisarmDecision d = decide_disarm(
      three_small_members(), {Alarm{3, AlarmType::kNoSpace}, Alarm{1, AlarmType::kNoSpace}}, 0.9);
  CHECK(d.disarm);
  REQUIRE(d.alarms.size() == 2);
  CHECK(d.alarms[0].member_id == 3);
  CHECK(d.alarms[1].member_id == 1);
  for (const auto& a : d.alarms) CHECK(a.type == AlarmType::kNoSpace);
}

TEST_CASE("a member exactly at the threshold still counts as under it") {
  std::vector<MemberSnapshot> view = three_small_members();
  view[1].status->db_size = kGiB;  // exactly 50 % of 2 GiB
  const DisarmDecision d = decide_disarm(view, {Alarm{2, AlarmType::kNoSpace}}, 0.5);
  CHECK(d.disarm);
}

TEST_CASE("NOSPACE stays while one member is above the threshold, and the reason names it") {
  std::vector<MemberSnapshot> view = three_small_members();
  view[2].status->db_size = 1'950'000'000;  // 91 % of 2 GiB
  const DisarmDecision d = decide_disarm(view, {Alarm{1, AlarmType::kNoSpace}}, 0.9);
  CHECK_FALSE(d.disarm);
  CHECK(d.alarms.empty());
  CHECK(d.refused);  // said in the log: NOSPACE is raised and stays
  CHECK_THAT(d.reason, Contains("etcd-3:2379") && Contains("2.0 GB") && Contains("90%") &&
                           Contains("2.1 GB"));
}

TEST_CASE("each member is held to its own quota when deciding to disarm") {
  std::vector<MemberSnapshot> view = three_small_members();
  view[0].quota_bytes = kGiB;  // 1 GiB of a 1 GiB quota
  const DisarmDecision d = decide_disarm(view, {Alarm{2, AlarmType::kNoSpace}}, 0.9);
  CHECK_FALSE(d.disarm);
  CHECK_THAT(d.reason, Contains("etcd-1:2379"));
}

TEST_CASE("CORRUPT is never disarmed") {
  const DisarmDecision d = decide_disarm(
      three_small_members(), {Alarm{2, AlarmType::kCorrupt}, Alarm{1, AlarmType::kNoSpace}}, 0.9);
  CHECK(d.disarm);
  REQUIRE(d.alarms.size() == 1);
  CHECK(d.alarms[0].member_id == 1);
  CHECK(d.alarms[0].type == AlarmType::kNoSpace);

  const DisarmDecision only_corrupt =
      decide_disarm(three_small_members(), {Alarm{2, AlarmType::kCorrupt}}, 0.9);
  CHECK_FALSE(only_corrupt.disarm);
  CHECK(only_corrupt.alarms.empty());
}

TEST_CASE("NOSPACE is never disarmed with member ID 0, which would clear every member's alarm") {
  const DisarmDecision d = decide_disarm(
      three_small_members(), {Alarm{0, AlarmType::kNoSpace}, Alarm{2, AlarmType::kNoSpace}}, 0.9);
  CHECK(d.disarm);
  REQUIRE(d.alarms.size() == 1);
  CHECK(d.alarms[0].member_id == 2);

  const DisarmDecision only_zero =
      decide_disarm(three_small_members(), {Alarm{0, AlarmType::kNoSpace}}, 0.9);
  CHECK_FALSE(only_zero.disarm);
  CHECK(only_zero.alarms.empty());
}

TEST_CASE("NOSPACE stays when a member did not answer status") {
  std::vector<MemberSnapshot> view = three_small_members();
  view[1].status.reset();
  const DisarmDecision d = decide_disarm(view, {Alarm{1, AlarmType::kNoSpace}}, 0.9);
  CHECK_FALSE(d.disarm);
  CHECK(d.alarms.empty());
  CHECK(d.refused);  // said in the log: NOSPACE is raised and stays
  CHECK_THAT(d.reason, Contains("etcd-2:2379") && Contains("did not answer status"));
}

TEST_CASE("leadership goes only to a defragmented, healthy, caught-up voter") {
  const std::uint64_t leader_index = 1000;
  auto not_defragmented = candidate(2, 1000);
  not_defragmented.defragmented = false;
  auto unhealthy = candidate(3, 1000);
  unhealthy.healthy = false;
  auto learner = candidate(4, 1000);
  learner.is_learner = true;
  const auto behind = candidate(5, 999);

  for (const auto& c : {not_defragmented, unhealthy, learner, behind}) {
    INFO("member " << c.member_id);
    CHECK(choose_leader_target({c}, leader_index) == std::nullopt);
  }
  CHECK(choose_leader_target({not_defragmented, unhealthy, learner, behind, candidate(6, 1000)},
                             leader_index) == 6u);
}

TEST_CASE("the most caught-up follower takes leadership, the first on a tie") {
  CHECK(choose_leader_target({candidate(2, 1005), candidate(3, 1010), candidate(4, 1007)}, 1000) ==
        3u);
  CHECK(choose_leader_target({candidate(2, 1010), candidate(3, 1010)}, 1000) == 2u);
}

TEST_CASE("no candidate means leadership stays") {
  CHECK(choose_leader_target({}, 1000) == std::nullopt);
}
