// Defragment the members one at a time, followers first and the leader last, each back
// and caught up before the next is touched.
#include <algorithm>
#include <numeric>

#include "defrag/run_context.h"
#include "defrag/runner.h"

namespace edd::defrag {

namespace {

bool left_alone(Action a) { return a == Action::kSkipLearner || a == Action::kExcluded; }

}  // namespace

Runner::Next Runner::defragment_members(Context& ctx) {
  // Who leads is read again before each member: one that became the leader goes behind the
  // others (a bounded number of times: leadership could flap).
  std::vector<std::size_t> order(ctx.plan.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::size_t rotations = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t i = order[k];
    const PlannedMember& p = ctx.plan[i];
    MemberReport& r = ctx.report.members[i];
    if (left_alone(p.action)) {
      r.result = MemberResult::kSkipped;
      continue;
    }
    if (auto stop = recheck_health(ctx)) return stop;
    auto st = client_.status(p.endpoint);
    if (!st) return Stop{Outcome::kAborted, st.error().message};
    r.db_size_before = st->db_size;
    r.db_size_in_use_before = st->db_size_in_use;
    r.was_leader = st->is_leader();
    const bool others_follow = std::any_of(order.begin() + k + 1, order.end(), [&](auto j) {
      return ctx.plan[j].action == Action::kDefragment || ctx.plan[j].action == Action::kSkipRule;
    });
    if (st->is_leader() && others_follow && rotations < ctx.plan.size()) {
      say_("Member " + p.endpoint + " is now the leader: defragmenting it last");
      order.push_back(i);
      ++rotations;
      continue;
    }
    if (auto stop = defragment_member(ctx, i, *st)) return stop;
    if (options_.wait_between_defrags.count() > 0 && k + 1 < order.size()) {
      clock_.sleep_for(options_.wait_between_defrags);
    }
  }
  return std::nullopt;
}

// The cluster must still be healthy before we block another member.
Runner::Next Runner::recheck_health(Context& ctx) {
  for (const auto& h : check_health(ctx.health_targets, false)) {
    if (!h.healthy) {
      return Stop{Outcome::kAborted, "member " + h.endpoint + " became unhealthy: " + h.error};
    }
  }
  return std::nullopt;
}

// One member: the rule again on its fresh status, leadership away first if that is worth it,
// the defrag, and the member back and caught up before anything else happens.
Runner::Next Runner::defragment_member(Context& ctx, std::size_t i, const etcd::MemberStatus& now) {
  const PlannedMember& p = ctx.plan[i];
  const RuleVerdict verdict = evaluate_rule(rule_, now, ctx.quota_by_id[p.member_id]);
  ctx.report.members[i].message = verdict.reason;
  if (verdict.action != Action::kDefragment) return skip_by_rule(ctx, i, verdict);
  if (skip_for_room(ctx, i, now)) return std::nullopt;
  if (now.is_leader() && leader_move_worth_it(ctx.report, now)) {
    maybe_move_leader(ctx, p);
    ctx.report.members[i].was_leader = true;
  }
  if (auto a = allowed("defragmenting"); !a) return Stop{Outcome::kAborted, a.error().message};
  const Status s = defragment_call(ctx, i, now);
  // Whether it worked or not, the member must be back before anything else happens. After a
  // failure (the member died, or the call timed out while etcd still defragments) it gets one
  // command timeout rather than the catch-up timeout: a member that is not back by then stops
  // the run at once instead of a minute later (etcd-defrag's behaviour too), and the daemon's
  // health gate tries again on a later poll.
  const auto catch_up =
      s ? options_.catch_up_timeout : std::min(options_.catch_up_timeout, options_.command_timeout);
  if (auto c = wait_caught_up(ctx, p.endpoint, catch_up); !c) {
    return Stop{Outcome::kAborted, c.error().message};
  }
  if (!s && !options_.continue_on_error) return stop_after_failure();
  return std::nullopt;
}

Runner::Next Runner::skip_by_rule(Context& ctx, std::size_t i, const RuleVerdict& verdict) {
  MemberReport& r = ctx.report.members[i];
  r.result = MemberResult::kSkipped;
  say_("Skipping endpoint \"" + ctx.plan[i].endpoint + "\": " + verdict.reason);
  // A rule that cannot be evaluated decided nothing: the operator must hear about it, and like
  // etcd-defrag it counts as this member's failure for --continue-on-error.
  if (verdict.action != Action::kRuleError) return std::nullopt;
  ctx.member_failed = true;
  r.result = MemberResult::kFailed;
  if (!options_.continue_on_error) return stop_after_failure();
  return std::nullopt;
}

// A member whose host lacks the room for the new file is skipped (one line naming the host, the
// free bytes and the need); the others go on in the same order, the leader still last.
bool Runner::skip_for_room(Context& ctx, std::size_t i, const etcd::MemberStatus& now) {
  const PlannedMember& p = ctx.plan[i];
  std::optional<DiskRoom> room;
  if (options_.disk_rooms) {
    const auto rooms = options_.disk_rooms();
    if (auto it = rooms.find(p.member_id); it != rooms.end()) room = it->second;
  }
  const std::string who =
      (p.name.empty() ? p.endpoint : p.name) + " (" + etcd::member_id_hex(p.member_id) + ")";
  const RoomVerdict v = check_disk_room(who, now.db_size_in_use, room);
  if (v.kind == RoomVerdict::Kind::kEnough) return false;
  if (v.kind == RoomVerdict::Kind::kUnknown) {
    if (options_.disk_rooms) say_("Note: " + v.reason);
    return false;
  }
  MemberReport& r = ctx.report.members[i];
  r.result = MemberResult::kSkipped;
  r.no_room = true;
  r.message = v.reason;
  say_("Skipping endpoint \"" + p.endpoint + "\": " + v.reason);
  return true;
}

Status Runner::defragment_call(Context& ctx, std::size_t i, const etcd::MemberStatus& before) {
  const std::string& endpoint = ctx.plan[i].endpoint;
  MemberReport& r = ctx.report.members[i];
  say_("Defragmenting endpoint \"" + endpoint + "\"");
  if (options_.defragmenting) options_.defragmenting(endpoint);
  const auto t0 = clock_.now();
  Status s = client_.defragment(endpoint, defrag_timeout(before.db_size, options_.command_timeout));
  if (options_.defragmenting) options_.defragmenting("");
  const auto elapsed = clock_.now() - t0;
  r.took = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed);
  if (!s) {
    r.result = MemberResult::kFailed;
    r.message = s.error().message;
    ctx.member_failed = true;
    say_("Failed to defragment endpoint \"" + endpoint + "\" after " + took(elapsed) + ": " +
         s.error().message);
    return s;
  }
  r.result = MemberResult::kDefragmented;
  say_("Defragmenting endpoint \"" + endpoint + "\" took " + took(elapsed));
  if (auto after = client_.status(endpoint)) {
    r.db_size_after = after->db_size;
    r.db_size_in_use_after = after->db_size_in_use;
    say_("Status of endpoint after defragmentation: " + describe(*after));
  }
  return s;
}

std::string Runner::endpoint_of(const Context& ctx, std::uint64_t member_id) const {
  auto it = ctx.endpoint_by_id.find(member_id);
  return it == ctx.endpoint_by_id.end() ? std::string() : it->second;
}

Status Runner::wait_caught_up(const Context& ctx, const std::string& endpoint,
                              std::chrono::milliseconds timeout) {
  // The member must answer a linearizable read again and have applied everything the leader
  // had committed when we started waiting, before we may block another member. The leader's
  // index is read first, so under writes the member has usually applied it by the time we ask.
  const auto deadline = clock_.now() + timeout;
  std::uint64_t target_index = 0;
  std::string last_problem = "no answer yet";
  while (true) {
    if (target_index == 0) target_index = leader_index(ctx, endpoint);
    if (auto h = client_.health(endpoint); !h) {
      last_problem = h.error().message;
    } else if (auto st = client_.status(endpoint); !st) {
      last_problem = st.error().message;
    } else if (target_index != 0 && st->raft_applied_index >= target_index) {
      return {};
    } else {
      last_problem = "applied index " + std::to_string(st->raft_applied_index) + " < leader's " +
                     std::to_string(target_index);
    }
    if (clock_.now() >= deadline) {
      return make_error(
          ErrorCode::kDeadlineExceeded,
          endpoint + " is not healthy and caught up after " + took(timeout) + ": " + last_problem);
    }
    clock_.sleep_for(options_.poll_step);
  }
}

// The index the member must reach: the leader's commit as the member sees who leads; 0 while
// the member does not answer.
std::uint64_t Runner::leader_index(const Context& ctx, const std::string& endpoint) {
  auto own = client_.status(endpoint);
  if (!own) return 0;
  const std::string leader_ep = endpoint_of(ctx, own->leader_id);
  if (!leader_ep.empty() && own->leader_id != own->member_id) {
    if (auto ls = client_.status(leader_ep)) return ls->raft_index;
  }
  return own->raft_index;
}

}  // namespace edd::defrag
