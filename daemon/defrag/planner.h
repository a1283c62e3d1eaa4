// The pure core of a run: statuses + health + alarms + rule in, decisions out (the health gate,
// the order with the leader last, each member's rule verdict, whether NOSPACE may be disarmed,
// which follower may take leadership). No I/O, no clock; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "etcd/member_snapshot.h"
#include "etcd/types.h"
#include "policy/reclaim_floor.h"
#include "rule/rule.h"

namespace edd::defrag {

struct HealthCheck {
  std::string endpoint;
  bool healthy = false;
  std::string error;
};

struct GateVerdict {
  bool ok = true;
  std::vector<std::string> reasons;  // why not, one line each, naming the member
  bool nospace_active = false;
};

// The health gate: every checked member answered a linearizable read, every member of
// the view answered Status, they are one cluster with one leader, and no alarm other than
// NOSPACE is raised (CORRUPT or an unknown alarm stops everything).
GateVerdict check_health_gate(const std::vector<etcd::MemberSnapshot>& view,
                              const std::vector<HealthCheck>& health,
                              const std::vector<etcd::Alarm>& alarms);

enum class Action {
  kDefragment,
  kSkipRule,
  kRuleError,
  kSkipLearner,
  kExcluded,
  kSkipFloor,  // the rule says yes, but the defrag would give back less than the reclaim floor
};
std::string action_name(Action action);

struct PlannedMember {
  std::string endpoint;
  std::string name;
  std::uint64_t member_id = 0;
  bool is_leader = false;
  Action action = Action::kDefragment;
  std::string reason;  // the rule's verdict or why the member is left alone
};

struct PlanPolicy {
  bool exclude_localhost = false;
  policy::ReclaimFloor min_reclaim{};  // applied after the rule, unless nospace_active
  bool nospace_active = false;
};

// The plan: one entry per member (endpoints of the same member collapse to the first), followers
// in the order given, the leader last; learners and excluded endpoints stay in the list, marked.
std::vector<PlannedMember> make_plan(const std::vector<etcd::MemberSnapshot>& view,
                                     const rule::Rule& rule, const PlanPolicy& policy);

rule::Inputs rule_inputs(const etcd::MemberStatus& status, std::int64_t quota_bytes);

// Whether the rule says to defragment this member, and a one-line verdict for the log.
struct RuleVerdict {
  Action action = Action::kDefragment;
  std::string reason;
};
RuleVerdict evaluate_rule(const rule::Rule& rule, const etcd::MemberStatus& status,
                          std::int64_t quota_bytes);

// The reclaim floor: a defrag gives back only free pages (dbSize - dbSizeInUse), so a member
// whose rule fires while that is under the floor (full, but compact) would be stalled for nothing.
// NOSPACE is the exception: etcd stays read-only until every member is defragmented.
struct FloorVerdict {
  bool holds_back = false;            // the floor stops this member's defrag
  std::int64_t expected_reclaim = 0;  // dbSize - dbSizeInUse
  std::int64_t floor_bytes = 0;       // the floor for this member's quota
  std::string reason;                 // when holds_back: names the member and both figures
};
FloorVerdict check_reclaim_floor(const std::string& endpoint, const etcd::MemberStatus& status,
                                 std::int64_t quota_bytes, const policy::ReclaimFloor& floor,
                                 bool nospace_active);

// A defrag blocks the member for as long as it copies its live data: allow 30 s plus 1 s per
// 10 MB of file, never less than the command timeout (etcdctl's fixed 5 s fails multi-GiB DBs).
std::chrono::milliseconds defrag_timeout(std::int64_t db_size_bytes,
                                         std::chrono::milliseconds command_timeout);

struct DisarmDecision {
  bool disarm = false;
  // NOSPACE is raised but clearing it is not safe yet: worth a line in the log, unlike "no alarm".
  bool refused = false;
  std::vector<etcd::Alarm> alarms;  // the NOSPACE alarms to clear, one per member
  std::string reason;
};
// The disarm: clear NOSPACE only when every member's file is at most quota x threshold and every
// member that raised it is in the view (its size known); never touch CORRUPT; never with
// member ID 0.
DisarmDecision decide_disarm(const std::vector<etcd::MemberSnapshot>& view,
                             const std::vector<etcd::Alarm>& alarms, double threshold);

struct LeaderCandidate {
  std::uint64_t member_id = 0;
  bool defragmented = false;
  bool healthy = false;
  bool is_learner = false;
  std::uint64_t raft_applied_index = 0;
};
// The leader move: a follower that is already defragmented, healthy, a voter and caught up with the
// leader's raft index; the most caught-up one, the first in order on a tie.
std::optional<std::uint64_t> choose_leader_target(const std::vector<LeaderCandidate>& candidates,
                                                  std::uint64_t leader_raft_index);

}  // namespace edd::defrag
