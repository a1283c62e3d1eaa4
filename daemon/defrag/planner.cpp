#include "defrag/planner.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/bytes.h"
#include "etcd/endpoint.h"

namespace edd::defrag {

using etcd::AlarmType;

std::string action_name(Action action) {
  switch (action) {
    case Action::kDefragment:
      return "defragment";
    case Action::kSkipRule:
      return "skip (rule)";
    case Action::kRuleError:
      return "skip (rule error)";
    case Action::kSkipLearner:
      return "skip (learner)";
    case Action::kExcluded:
      return "skip (excluded)";
    case Action::kSkipFloor:
      return "skip (reclaim floor)";
  }
  return "?";
}

GateVerdict check_health_gate(const std::vector<etcd::MemberSnapshot>& view,
                              const std::vector<HealthCheck>& health,
                              const std::vector<etcd::Alarm>& alarms) {
  GateVerdict v;
  auto fail = [&](std::string reason) {
    v.ok = false;
    v.reasons.push_back(std::move(reason));
  };
  for (const auto& h : health) {
    if (!h.healthy) fail("member " + h.endpoint + " is unhealthy: " + h.error);
  }
  std::set<std::uint64_t> clusters;
  std::set<std::uint64_t> leaders;
  for (const auto& m : view) {
    if (!m.status) {
      fail("member " + m.endpoint + " did not answer status: " + m.error);
      continue;
    }
    clusters.insert(m.status->cluster_id);
    if (!m.status->is_learner) leaders.insert(m.status->leader_id);
  }
  if (clusters.size() > 1) fail("the endpoints belong to different clusters");
  if (leaders.count(0) > 0) fail("a member reports no leader (election in progress?)");
  if (leaders.size() > 1) fail("members disagree on the leader (election in progress?)");
  for (const auto& a : alarms) {
    const std::string who = "member " + etcd::member_id_hex(a.member_id);
    switch (a.type) {
      case AlarmType::kNoSpace:
        v.nospace_active = true;  // the reason we are here: still healthy for this purpose
        break;
      case AlarmType::kCorrupt:
        fail(who + " has the CORRUPT alarm: refusing to touch a corrupted cluster");
        break;
      case AlarmType::kNone:
        break;
      case AlarmType::kUnknown:
        fail(who + " has an unknown alarm: refusing to act");
        break;
    }
  }
  return v;
}

rule::Inputs rule_inputs(const etcd::MemberStatus& status, std::int64_t quota_bytes) {
  return {static_cast<double>(status.db_size), static_cast<double>(status.db_size_in_use),
          static_cast<double>(quota_bytes)};
}

RuleVerdict evaluate_rule(const rule::Rule& rule, const etcd::MemberStatus& status,
                          std::int64_t quota_bytes) {
  if (rule.is_always()) return {Action::kDefragment, "no rule: always"};
  auto r = rule.evaluate(rule_inputs(status, quota_bytes));
  const std::string figures = "dbSize " + format_bytes_si(status.db_size) + ", in use " +
                              format_bytes_si(status.db_size_in_use) + ", quota " +
                              format_bytes_si(quota_bytes);
  if (!r) return {Action::kRuleError, r.error().message};
  if (*r) return {Action::kDefragment, "rule \"" + rule.text() + "\" is true (" + figures + ")"};
  return {Action::kSkipRule, "rule \"" + rule.text() + "\" is false (" + figures + ")"};
}

std::vector<PlannedMember> make_plan(const std::vector<etcd::MemberSnapshot>& view,
                                     const rule::Rule& rule, const PlanPolicy& policy) {
  std::vector<PlannedMember> followers;
  std::optional<PlannedMember> leader;
  std::set<std::uint64_t> seen;
  for (const auto& m : view) {
    if (!m.status || !seen.insert(m.status->member_id).second) continue;
    PlannedMember p;
    p.endpoint = m.endpoint;
    p.name = m.name;
    p.member_id = m.status->member_id;
    p.is_leader = m.status->is_leader();
    auto ep = etcd::parse_endpoint(m.endpoint);
    if (m.status->is_learner) {
      p.action = Action::kSkipLearner;
      p.reason = "learners are not defragmented";
    } else if (policy.exclude_localhost && ep && etcd::is_loopback_host(ep->host)) {
      p.action = Action::kExcluded;
      p.reason = "localhost endpoint excluded (--exclude-localhost)";
    } else {
      const RuleVerdict verdict = evaluate_rule(rule, *m.status, m.quota_bytes);
      p.action = verdict.action;
      p.reason = verdict.reason;
      if (p.action == Action::kDefragment) {
        const FloorVerdict floor = check_reclaim_floor(m.endpoint, *m.status, m.quota_bytes,
                                                       policy.min_reclaim, policy.nospace_active);
        if (floor.holds_back) {
          p.action = Action::kSkipFloor;
          p.reason = floor.reason;
        }
      }
    }
    if (p.is_leader) {
      leader = std::move(p);
    } else {
      followers.push_back(std::move(p));
    }
  }
  if (leader) followers.push_back(std::move(*leader));
  return followers;
}

FloorVerdict check_reclaim_floor(const std::string& endpoint, const etcd::MemberStatus& status,
                                 std::int64_t quota_bytes, const policy::ReclaimFloor& floor,
                                 bool nospace_active) {
  FloorVerdict v;
  v.expected_reclaim = std::max<std::int64_t>(status.db_size - status.db_size_in_use, 0);
  v.floor_bytes = floor.bytes_for(quota_bytes);
  if (nospace_active || v.expected_reclaim >= v.floor_bytes) return v;
  v.holds_back = true;
  v.reason = "member " + endpoint + " would give back " + format_bytes_si(v.expected_reclaim) +
             " (dbSize " + format_bytes_si(status.db_size) + ", in use " +
             format_bytes_si(status.db_size_in_use) + "), under the reclaim floor " +
             format_bytes_si(v.floor_bytes) + " (min_reclaim " + policy::to_string(floor) +
             "): a defrag would stall it for nothing";
  return v;
}

std::chrono::milliseconds defrag_timeout(std::int64_t db_size_bytes,
                                         std::chrono::milliseconds command_timeout) {
  const std::int64_t per_10mb = std::max<std::int64_t>(db_size_bytes, 0) / 10'000'000;
  const std::chrono::milliseconds scaled = std::chrono::seconds(30 + per_10mb);
  return std::max(scaled, command_timeout);
}

DisarmDecision decide_disarm(const std::vector<etcd::MemberSnapshot>& view,
                             const std::vector<etcd::Alarm>& alarms, double threshold) {
  DisarmDecision d;
  for (const auto& a : alarms) {
    if (a.type == AlarmType::kNoSpace && a.member_id != 0) d.alarms.push_back(a);
  }
  if (d.alarms.empty()) {
    d.reason = "no NOSPACE alarm";
    return d;
  }
  for (const auto& a : d.alarms) {
    const bool checked = std::any_of(view.begin(), view.end(), [&](const auto& m) {
      return m.status && m.status->member_id == a.member_id;
    });
    if (!checked) {
      // Its size is unknown: clearing its alarm could let it grow past the quota again.
      d.reason = "not disarming NOSPACE: member " + etcd::member_id_hex(a.member_id) +
                 " raised it but its size was not checked";
      d.alarms.clear();
      d.refused = true;
      return d;
    }
  }
  for (const auto& m : view) {
    if (!m.status) {
      d.alarms.clear();
      d.refused = true;
      d.reason = "not disarming: " + m.endpoint + " did not answer status";
      return d;
    }
    const double limit = static_cast<double>(m.quota_bytes) * threshold;
    if (static_cast<double>(m.status->db_size) > limit) {
      char pct[16];
      std::snprintf(pct, sizeof pct, "%.0f%%", threshold * 100);
      d.alarms.clear();
      d.refused = true;
      d.reason = "not disarming NOSPACE: " + m.endpoint + " is still " +
                 format_bytes_si(m.status->db_size) + ", above " + pct + " of its quota " +
                 format_bytes_si(m.quota_bytes) + " (etcd would raise it again)";
      return d;
    }
  }
  d.disarm = true;
  d.reason = "every member is under the disarm threshold";
  return d;
}

std::optional<std::uint64_t> choose_leader_target(const std::vector<LeaderCandidate>& candidates,
                                                  std::uint64_t leader_raft_index) {
  const LeaderCandidate* best = nullptr;
  for (const auto& c : candidates) {
    if (!c.defragmented || !c.healthy || c.is_learner) continue;
    if (c.raft_applied_index < leader_raft_index) continue;
    if (best == nullptr || c.raft_applied_index > best->raft_applied_index) best = &c;
  }
  if (best == nullptr) return std::nullopt;
  return best->member_id;
}

}  // namespace edd::defrag
