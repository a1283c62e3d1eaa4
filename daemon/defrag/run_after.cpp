// The last steps of a run, once every member is done: disarm NOSPACE, and check that every member
// holds the same data.
#include <algorithm>
#include <future>

#include "defrag/run_context.h"
#include "defrag/runner.h"
#include "etcd/endpoint.h"

namespace edd::defrag {

// One HashKV round on every member at one revision.
struct Runner::HashRound {
  std::vector<etcd::HashKv> hashes;  // one per member that answered
  bool retry_latest = false;         // a member had compacted past the revision asked for
  std::string problem;               // not a timing matter: give up
};

namespace {

// Every member hashed the same compacted range, at the same revision when "latest" was asked.
bool aligned(const std::vector<etcd::HashKv>& hashes, std::int64_t revision) {
  return std::all_of(hashes.begin(), hashes.end(), [&](const etcd::HashKv& h) {
    return h.compact_revision == hashes.front().compact_revision &&
           (revision != 0 || h.revision == hashes.front().revision);
  });
}

}  // namespace

void Runner::disarm_nospace(Context& ctx) {
  if (options_.auto_disalarm) {
    // Every member's size counts, not only the endpoints we defragmented: NOSPACE is
    // cluster-wide.
    std::vector<std::string> all = ctx.endpoints;
    all.insert(all.end(), ctx.health_targets.begin(), ctx.health_targets.end());
    all = etcd::dedupe_endpoints(all);
    // A write a member refused while it was still over its quota (often the leader, during its
    // own defrag) raises NOSPACE through raft, and that raise may be applied after our disarm.
    // So the alarms are read again after disarming (the alarm list is linearizable in etcd) and
    // a raise that came back is disarmed again, a bounded number of times, as an operator would
    // after `etcdctl alarm list`. Anything left is for the next run.
    constexpr int kRounds = 3;
    for (int round = 0; round < kRounds; ++round) {
      if (!disarm_round(ctx, round, all)) return;
    }
  } else if (ctx.nospace_at_start) {
    say_(
        "NOSPACE alarm left active (--auto-disalarm is off): run `etcdctl alarm disarm` once "
        "every member is under its quota");
  }
}

// One read of the alarms and, if every member is under the threshold, their disarm. Returns
// whether to read them again.
bool Runner::disarm_round(Context& ctx, int round, const std::vector<std::string>& members) {
  RunReport& report = ctx.report;
  const auto view = etcd::fetch_cluster_view(client_, members, options_.view);
  const auto listed = read_alarms(client_, view);
  if (!listed) {
    if (round > 0) return false;  // disarmed once; whatever is left, the next poll sees
    report.disarm_note = "cannot read alarms: no member answered";
    say_(report.disarm_note);
    return false;
  }
  const DisarmDecision d = decide_disarm(view, listed->alarms, options_.disalarm_threshold);
  if (round > 0 && d.alarms.empty()) return false;  // none came back
  report.disarm_note = d.reason;
  if (!d.disarm) {
    if (!d.alarms.empty() || d.refused) say_(d.reason);
    return false;
  }
  if (round > 0) {
    std::string ids;
    for (const auto& a : d.alarms) ids += " " + etcd::member_id_hex(a.member_id);
    say_(
        "NOSPACE raised again while disarming (a write refused before the defrag ended), by"
        " member" +
        ids + "; disarming again");
  }
  if (auto a = allowed("disarming NOSPACE"); !a) {
    report.disarm_note = a.error().message;
    say_(report.disarm_note);
    return false;
  }
  for (const auto& alarm : d.alarms) {
    if (auto s = client_.disarm(listed->via, alarm); !s) {
      report.disarm_note = "disarm failed: " + s.error().message;
      say_(report.disarm_note);
      return false;
    }
    report.disarmed.push_back(alarm);
    say_("Disarmed NOSPACE of member " + etcd::member_id_hex(alarm.member_id));
  }
  return true;
}

void Runner::check_consistency(Context& ctx) {
  // HashKV at one revision on every member. etcd refuses a revision at or below the compacted
  // one, so right after our compaction (no write since) we ask for the latest revision (0) and
  // accept the answer only if every member hashed the same revision. Members still applying the
  // compaction report another compact revision and are asked again, a bounded number of times.
  std::vector<std::string> targets;
  for (const auto& m : ctx.view) {
    if (m.status && !m.status->is_learner) targets.push_back(m.endpoint);
  }
  if (targets.size() < 2) return;
  // Start at the highest revision any member has: under writes "latest" differs per member.
  std::int64_t revision = 0;
  for (const auto& ep : targets) {
    if (auto st = client_.status(ep)) revision = std::max(revision, st->revision);
  }
  const auto& compacted = ctx.report.compacted_revision;
  if (compacted && revision <= *compacted) revision = 0;
  std::string problem;
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (attempt > 0) clock_.sleep_for(std::chrono::milliseconds(20));
    HashRound round = hash_round(targets, revision);
    problem = round.problem;
    if (!problem.empty()) break;
    problem = "members were not at a common revision";
    if (round.retry_latest || round.hashes.size() != targets.size()) {
      revision = 0;
    } else if (!aligned(round.hashes, revision)) {
      for (const auto& h : round.hashes) revision = std::max(revision, h.revision);
    } else {
      report_hashes(ctx, targets, round.hashes, revision);
      return;
    }
  }
  ctx.report.hash_note = "consistency check not conclusive: " + problem;
  say_(ctx.report.hash_note);
}

Runner::HashRound Runner::hash_round(const std::vector<std::string>& targets,
                                     std::int64_t revision) {
  std::vector<std::future<Result<etcd::HashKv>>> futures;
  for (const auto& ep : targets) {
    futures.push_back(std::async(std::launch::async,
                                 [this, ep, revision] { return client_.hash_kv(ep, revision); }));
  }
  HashRound round;
  for (auto& f : futures) {
    auto h = f.get();
    if (h) {
      round.hashes.push_back(*h);
    } else if (h.error().code == ErrorCode::kCompacted) {
      round.retry_latest = true;
    } else if (h.error().code != ErrorCode::kFutureRevision) {
      round.problem = h.error().message;
      break;
    }
  }
  return round;
}

void Runner::report_hashes(Context& ctx, const std::vector<std::string>& targets,
                           const std::vector<etcd::HashKv>& hashes, std::int64_t revision) {
  RunReport& report = ctx.report;
  const std::int64_t at = revision != 0 ? revision : hashes.front().revision;
  const bool same = std::all_of(hashes.begin(), hashes.end(),
                                [&](const auto& h) { return h.hash == hashes.front().hash; });
  report.hash_consistent = same;
  if (same) {
    report.hash_note = "HashKV at revision " + std::to_string(at) + " is " +
                       std::to_string(hashes.front().hash) + " on all " +
                       std::to_string(hashes.size()) + " members";
    say_(report.hash_note);
    return;
  }
  report.hash_note = "HASH MISMATCH at revision " + std::to_string(at) + ":";
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    report.hash_note += " " + targets[i] + "=" + std::to_string(hashes[i].hash);
  }
  say_("ERROR: " + report.hash_note +
       " - the members' data differ; investigate before anything else");
}

}  // namespace edd::defrag
