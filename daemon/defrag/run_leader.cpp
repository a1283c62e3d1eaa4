// Moving leadership away from the leader before its own defrag: a leader's defrag holds every
// lease keep-alive in the cluster for as long as it takes.
#include <cstdio>

#include "defrag/run_context.h"
#include "defrag/runner.h"

namespace edd::defrag {

bool Runner::leader_move_worth_it(const RunReport& report, const etcd::MemberStatus& leader) {
  using Mode = policy::MoveLeader;
  if (options_.move_leader != Mode::kAuto) return options_.move_leader == Mode::kAlways;
  // Defrag time grows with the bytes still in use: estimate the leader's from the speed the
  // followers showed in this very run.
  double bytes = 0;
  double seconds = 0;
  for (const auto& r : report.members) {
    if (r.result != MemberResult::kDefragmented || r.took.count() <= 0) continue;
    bytes += static_cast<double>(r.db_size_in_use_before);
    seconds += static_cast<double>(r.took.count()) / 1000.0;
  }
  if (bytes <= 0 || seconds <= 0) {
    say_("Not moving leadership (auto): no follower defrag in this run to estimate from");
    return false;
  }
  const double expected = static_cast<double>(leader.db_size_in_use) / (bytes / seconds);
  const double threshold = static_cast<double>(options_.move_leader_min_stall.count()) / 1000.0;
  char line[200];
  std::snprintf(line, sizeof line,
                "Leader's expected defrag: %.2fs (%.0f MB/s over the followers); moving "
                "leadership only above %.2fs",
                expected, bytes / seconds / 1e6, threshold);
  say_(line);
  return expected > threshold;
}

// A follower that is defragmented, healthy and has applied the leader's index; nullopt if none.
std::optional<std::uint64_t> Runner::leader_target(const Context& ctx, const PlannedMember& leader,
                                                   const etcd::MemberStatus& leader_status) {
  // The leader's index was read first: candidates read afterwards must have applied at least it.
  std::vector<LeaderCandidate> candidates;
  for (const auto& r : ctx.report.members) {
    if (r.member_id == leader.member_id) continue;
    LeaderCandidate c;
    c.member_id = r.member_id;
    c.defragmented = r.result == MemberResult::kDefragmented;
    c.healthy = client_.health(r.endpoint).has_value();
    if (auto st = client_.status(r.endpoint)) {
      c.is_learner = st->is_learner;
      c.raft_applied_index = st->raft_applied_index;
    } else {
      c.healthy = false;
    }
    candidates.push_back(c);
  }
  return choose_leader_target(candidates, leader_status.raft_index);
}

void Runner::maybe_move_leader(Context& ctx, const PlannedMember& leader) {
  auto leader_status = client_.status(leader.endpoint);
  if (!leader_status || !leader_status->is_leader()) return;
  const auto target = leader_target(ctx, leader, *leader_status);
  if (!target) {
    say_("Not moving leadership: no follower is defragmented, healthy and caught up");
    return;
  }
  if (auto a = allowed("moving leadership"); !a) {
    say_("Not moving leadership: " + a.error().message);
    return;
  }
  say_("Moving leadership from " + etcd::member_id_hex(leader.member_id) + " to " +
       etcd::member_id_hex(*target) + " before defragmenting the leader");
  if (auto s = client_.move_leader(leader.endpoint, *target); !s) {
    say_("Moving leadership failed, defragmenting the leader in place: " + s.error().message);
    return;
  }
  const auto deadline = clock_.now() + options_.command_timeout;
  while (clock_.now() < deadline) {
    auto st = client_.status(endpoint_of(ctx, *target));
    if (st && st->is_leader()) {
      ctx.report.leader_moved_to = *target;
      say_("Leadership moved to " + etcd::member_id_hex(*target));
      return;
    }
    clock_.sleep_for(options_.poll_step);
  }
  say_("Leadership did not move within " + took(options_.command_timeout));
}

}  // namespace edd::defrag
