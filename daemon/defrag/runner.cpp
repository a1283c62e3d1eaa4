#include "defrag/runner.h"

#include <cstdio>
#include <future>
#include <map>
#include <optional>

#include "common/bytes.h"
#include "common/duration.h"
#include "defrag/versions.h"
#include "etcd/endpoint.h"

namespace edd::defrag {

using std::chrono::milliseconds;

struct Runner::Context {
  std::vector<std::string> endpoints;       // what we defragment
  std::vector<std::string> health_targets;  // whose health gates every step
  std::vector<etcd::MemberSnapshot> view;
  std::map<std::uint64_t, std::string> endpoint_by_id;
  std::map<std::uint64_t, std::int64_t> quota_by_id;
};

namespace {

std::string describe(const etcd::MemberStatus& s) {
  return "endpoint: " + s.endpoint + ", dbSize: " + std::to_string(s.db_size) +
         ", dbSizeInUse: " + std::to_string(s.db_size_in_use) +
         ", memberId: " + etcd::member_id_hex(s.member_id) +
         ", leader: " + etcd::member_id_hex(s.leader_id) +
         ", revision: " + std::to_string(s.revision) + ", term: " + std::to_string(s.raft_term) +
         ", index: " + std::to_string(s.raft_index);
}

std::string took(std::chrono::nanoseconds d) { return format_go_duration(d); }

// The cluster's alarm list (cluster-wide, read through raft) and the member that gave it: the
// first member of the view that answered its status and then the list; nullopt if none did.
struct AlarmList {
  std::string via;
  std::vector<etcd::Alarm> alarms;
};

std::optional<AlarmList> read_alarms(etcd::ClusterClient& client,
                                     const std::vector<etcd::MemberSnapshot>& view) {
  for (const auto& m : view) {
    if (!m.status) continue;
    if (auto a = client.alarms(m.endpoint)) return AlarmList{m.endpoint, std::move(*a)};
  }
  return std::nullopt;
}

}  // namespace

Runner::Runner(etcd::ClusterClient& client, Clock& clock, rule::Rule rule, RunOptions options,
               Say say)
    : client_(client),
      clock_(clock),
      rule_(std::move(rule)),
      options_(std::move(options)),
      say_(std::move(say)) {}

Status Runner::allowed(const char* step) {
  if (!options_.before_step) return {};
  auto s = options_.before_step();
  if (!s)
    return make_error(s.error().code,
                      std::string("stopped before ") + step + ": " + s.error().message);
  return s;
}

std::vector<HealthCheck> Runner::check_health(const std::vector<std::string>& endpoints,
                                              bool verbose) {
  std::vector<std::future<std::pair<Status, std::chrono::nanoseconds>>> futures;
  for (const auto& ep : endpoints) {
    futures.push_back(std::async(std::launch::async, [this, ep] {
      const auto t0 = std::chrono::steady_clock::now();
      Status s = client_.health(ep);
      return std::pair{std::move(s), std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::steady_clock::now() - t0)};
    }));
  }
  std::vector<HealthCheck> out;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    auto [s, elapsed] = futures[i].get();
    HealthCheck h{endpoints[i], s.has_value(), s ? "" : s.error().message};
    if (verbose) {
      say_("endpoint: " + h.endpoint + ", health: " + (h.healthy ? "true" : "false") +
           ", took: " + took(elapsed) + ", error: " + h.error);
    }
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<std::string>> Runner::health_targets(const std::vector<std::string>& endpoints) {
  if (options_.skip_healthcheck_cluster_endpoints) return endpoints;
  // Every voting member of the cluster gates the run, not only the endpoints we were given:
  // defragmenting one member while another is down can cost quorum.
  std::string errors;
  for (const auto& ep : endpoints) {
    auto members = client_.member_list(ep);
    if (!members) {
      errors += (errors.empty() ? "" : "; ") + members.error().message;
      continue;
    }
    std::vector<std::string> targets;
    for (const auto& m : *members) {
      if (m.is_learner) continue;
      if (m.client_urls.empty()) {
        return make_error(ErrorCode::kFailedPrecondition,
                          "member " + m.name + " (" + etcd::member_id_hex(m.id) +
                              ") has no client URL: it has not started");
      }
      targets.push_back(m.client_urls.front());
    }
    return targets;
  }
  return make_error(ErrorCode::kUnavailable, "cannot list the cluster's members: " + errors);
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
    if (target_index == 0) {
      if (auto own = client_.status(endpoint)) {
        target_index = own->raft_index;
        const std::string leader_ep = endpoint_of(ctx, own->leader_id);
        if (!leader_ep.empty() && own->leader_id != own->member_id) {
          if (auto ls = client_.status(leader_ep)) target_index = ls->raft_index;
        }
      }
    }
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

bool Runner::leader_move_worth_it(const RunReport& report, const etcd::MemberStatus& leader) {
  using Mode = RunOptions::MoveLeader;
  if (options_.move_leader != Mode::kAuto) return options_.move_leader == Mode::kAlways;
  // Defrag time grows with the bytes still in use (design.md): estimate the leader's from the
  // speed the followers showed in this very run.
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

void Runner::maybe_move_leader(Context& ctx, const PlannedMember& leader, RunReport& report) {
  auto leader_status = client_.status(leader.endpoint);
  if (!leader_status || !leader_status->is_leader()) return;
  // Read the leader's index first: candidates read afterwards must have applied at least that.
  std::vector<LeaderCandidate> candidates;
  for (const auto& r : report.members) {
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
  const auto target = choose_leader_target(candidates, leader_status->raft_index);
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
      report.leader_moved_to = *target;
      say_("Leadership moved to " + etcd::member_id_hex(*target));
      return;
    }
    clock_.sleep_for(options_.poll_step);
  }
  say_("Leadership did not move within " + took(options_.command_timeout));
}

void Runner::disarm(Context& ctx, RunReport& report) {
  // Every member's size counts, not only the endpoints we defragmented: NOSPACE is cluster-wide.
  std::vector<std::string> all = ctx.endpoints;
  all.insert(all.end(), ctx.health_targets.begin(), ctx.health_targets.end());
  all = etcd::dedupe_endpoints(all);
  // A write a member refused while it was still over its quota (often the leader, during its own
  // defrag) raises NOSPACE through raft, and that raise may be applied after our disarm. So the
  // alarms are read again after disarming (the alarm list is linearizable in etcd) and a raise
  // that came back is disarmed again, a bounded number of times, as an operator would after
  // `etcdctl alarm list`. Anything left is for the next run.
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    const auto view = etcd::fetch_cluster_view(client_, all, options_.view);
    const auto listed = read_alarms(client_, view);
    if (!listed) {
      if (round > 0) return;  // disarmed once; whatever is left, the next poll sees
      report.disarm_note = "cannot read alarms: no member answered";
      say_(report.disarm_note);
      return;
    }
    const DisarmDecision d = decide_disarm(view, listed->alarms, options_.disalarm_threshold);
    if (round > 0 && d.alarms.empty()) return;  // none came back
    report.disarm_note = d.reason;
    if (!d.disarm) {
      if (!d.alarms.empty() || d.refused) say_(d.reason);
      return;
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
      return;
    }
    for (const auto& alarm : d.alarms) {
      if (auto s = client_.disarm(listed->via, alarm); !s) {
        report.disarm_note = "disarm failed: " + s.error().message;
        say_(report.disarm_note);
        return;
      }
      report.disarmed.push_back(alarm);
      say_("Disarmed NOSPACE of member " + etcd::member_id_hex(alarm.member_id));
    }
  }
}

void Runner::check_consistency(Context& ctx, RunReport& report) {
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
  if (report.compacted_revision && revision <= *report.compacted_revision) revision = 0;
  std::string problem;
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (attempt > 0) clock_.sleep_for(milliseconds(20));
    std::vector<std::future<Result<etcd::HashKv>>> futures;
    for (const auto& ep : targets) {
      futures.push_back(std::async(std::launch::async,
                                   [this, ep, revision] { return client_.hash_kv(ep, revision); }));
    }
    std::vector<etcd::HashKv> hashes;
    problem.clear();
    bool retry_latest = false;
    for (auto& f : futures) {
      auto h = f.get();
      if (h) {
        hashes.push_back(*h);
      } else if (h.error().code == ErrorCode::kCompacted) {
        retry_latest = true;
      } else if (h.error().code != ErrorCode::kFutureRevision) {
        problem = h.error().message;  // not a timing matter: give up at once
        break;
      }
    }
    if (!problem.empty()) break;
    if (retry_latest || hashes.size() != targets.size()) {
      revision = 0;
      problem = "members were not at a common revision";
      continue;
    }
    bool aligned = true;
    for (const auto& h : hashes) {
      aligned = aligned && h.compact_revision == hashes.front().compact_revision &&
                (revision != 0 || h.revision == hashes.front().revision);
    }
    if (!aligned) {
      problem = "members were not at a common revision";
      for (const auto& h : hashes) revision = std::max(revision, h.revision);
      continue;
    }
    const std::int64_t at = revision != 0 ? revision : hashes.front().revision;
    bool same = true;
    for (const auto& h : hashes) same = same && h.hash == hashes.front().hash;
    report.hash_consistent = same;
    if (same) {
      report.hash_note = "HashKV at revision " + std::to_string(at) + " is " +
                         std::to_string(hashes.front().hash) + " on all " +
                         std::to_string(hashes.size()) + " members";
      say_(report.hash_note);
    } else {
      report.hash_note = "HASH MISMATCH at revision " + std::to_string(at) + ":";
      for (std::size_t i = 0; i < hashes.size(); ++i) {
        report.hash_note += " " + targets[i] + "=" + std::to_string(hashes[i].hash);
      }
      say_("ERROR: " + report.hash_note +
           " - the members' data differ; investigate before anything else");
    }
    return;
  }
  report.hash_note = "consistency check not conclusive: " + problem;
  say_(report.hash_note);
}

RunReport Runner::run(const std::vector<std::string>& seed_endpoints) {
  const auto started = clock_.now();
  RunReport report;
  Context ctx;
  auto done = [&](Outcome outcome) {
    report.outcome = outcome;
    report.total = std::chrono::duration_cast<milliseconds>(clock_.now() - started);
    return report;
  };
  auto abort = [&](const std::string& why) {
    report.abort_reason = why;
    say_("Aborting: " + why);
    return done(Outcome::kAborted);
  };
  // --continue-on-error=false: the first member that failed (its defrag, or its rule) ends the run.
  auto stop_after_failure = [&] {
    report.abort_reason = "stopped after the first failure (--continue-on-error=false)";
    say_(report.abort_reason);
    return done(Outcome::kFailed);
  };

  auto endpoints = etcd::discover_endpoints(client_, seed_endpoints, options_.cluster);
  if (!endpoints) return abort(endpoints.error().message);
  ctx.endpoints = std::move(*endpoints);

  say_("Performing health check.");
  auto targets = health_targets(ctx.endpoints);
  if (!targets) return abort(targets.error().message);
  ctx.health_targets = std::move(*targets);
  const auto health = check_health(ctx.health_targets, true);

  say_("Getting members status");
  ctx.view = etcd::fetch_cluster_view(client_, ctx.endpoints, options_.view);
  for (const auto& m : ctx.view) {
    if (!m.status) {
      say_("endpoint: " + m.endpoint + ", error: " + m.error);
      continue;
    }
    say_(describe(*m.status) + ", quota: " + std::to_string(m.quota_bytes) + " (" +
         etcd::quota_source_name(m.quota_source) + ")");
    ctx.endpoint_by_id.emplace(m.status->member_id, m.endpoint);
    ctx.quota_by_id.emplace(m.status->member_id, m.quota_bytes);
  }
  const auto listed = read_alarms(client_, ctx.view);
  const GateVerdict gate =
      check_health_gate(ctx.view, health, listed ? listed->alarms : std::vector<etcd::Alarm>{});
  if (!gate.ok) {
    std::string why = "the cluster is not healthy, nothing was changed:";
    for (const auto& r : gate.reasons) why += " " + r + ";";
    why.pop_back();
    return abort(why);
  }
  if (gate.nospace_active) say_("NOSPACE alarm is active: the cluster refuses writes");
  // etcd-defrag goes on in these cases, and so does the CLI; the daemon decides before it starts.
  for (const auto& line : version_warnings(ctx.view)) say_("WARNING: " + line);

  const auto plan = make_plan(ctx.view, rule_, PlanPolicy{options_.exclude_localhost});
  for (const auto& p : plan) {
    MemberReport r;
    r.endpoint = p.endpoint;
    r.name = p.name;
    r.member_id = p.member_id;
    r.was_leader = p.is_leader;
    r.message = p.reason;
    for (const auto& m : ctx.view) {
      if (m.status && m.status->member_id == p.member_id) {
        r.db_size_before = m.status->db_size;
        r.db_size_in_use_before = m.status->db_size_in_use;
      }
    }
    report.members.push_back(std::move(r));
  }

  {
    // etcd-defrag prints this line; scripts written for it look for it.
    std::string list;
    std::size_t count = 0;
    for (const auto& p : plan) {
      if (p.action == Action::kSkipLearner || p.action == Action::kExcluded) continue;
      list += (count++ == 0 ? "" : " ") + p.endpoint;
    }
    say_(std::to_string(count) + " endpoints need to be defragmented: [" + list + "]");
  }

  if (options_.dry_run) {
    say_("Dry run: nothing will be changed. The plan, in order:");
    for (std::size_t i = 0; i < plan.size(); ++i) {
      say_("  " + std::to_string(i + 1) + ". " + plan[i].endpoint +
           (plan[i].is_leader ? " (leader)" : "") + ": " + action_name(plan[i].action) + " — " +
           plan[i].reason);
      report.members[i].result = MemberResult::kSkipped;
      report.members[i].message = "dry run: would " + action_name(plan[i].action);
    }
    if (options_.compaction) say_("Would compact to the current revision first.");
    return done(Outcome::kDryRun);
  }

  if (options_.compaction) {
    // Compact through the first member we will defragment: a physical compaction returns once
    // that member has compacted, so its defrag reclaims the most.
    // Never through a learner: etcd refuses it ("rpc not supported for learner").
    std::string via;
    for (const auto& p : plan) {
      if (p.action == Action::kDefragment) {
        via = p.endpoint;
        break;
      }
    }
    for (const auto& p : plan) {
      if (via.empty() && p.action != Action::kSkipLearner) via = p.endpoint;
    }
    if (via.empty()) return abort("compaction: no voting member among the endpoints");
    if (auto a = allowed("compaction"); !a) {
      return abort(a.error().message + ", nothing was changed");
    }
    auto st = client_.status(via);
    if (!st) return abort("compaction: " + st.error().message);
    say_("Running compaction until revision: " + std::to_string(st->revision) + " ...");
    if (auto c = client_.compact(via, st->revision, true); !c) {
      return abort("compaction failed: " + c.error().message);
    }
    report.compacted_revision = st->revision;
    say_("Compaction successful");
  }

  // Followers in order, the leader last; re-read who leads before each member and move a member
  // that became the leader behind the others (bounded: leadership could flap).
  std::vector<std::size_t> order(plan.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::size_t rotations = 0;
  bool failed = false;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t i = order[k];
    const PlannedMember& p = plan[i];
    MemberReport& r = report.members[i];
    if (p.action == Action::kSkipLearner || p.action == Action::kExcluded) {
      r.result = MemberResult::kSkipped;
      continue;
    }
    // The cluster must still be healthy before we block another member.
    for (const auto& h : check_health(ctx.health_targets, false)) {
      if (!h.healthy) return abort("member " + h.endpoint + " became unhealthy: " + h.error);
    }
    auto st = client_.status(p.endpoint);
    if (!st) return abort(st.error().message);
    r.db_size_before = st->db_size;
    r.db_size_in_use_before = st->db_size_in_use;
    r.was_leader = st->is_leader();

    bool later_candidates = false;
    for (std::size_t j = k + 1; j < order.size(); ++j) {
      later_candidates = later_candidates || plan[order[j]].action == Action::kDefragment ||
                         plan[order[j]].action == Action::kSkipRule;
    }
    if (st->is_leader() && later_candidates && rotations < plan.size()) {
      say_("Member " + p.endpoint + " is now the leader: defragmenting it last");
      order.push_back(i);
      ++rotations;
      continue;
    }

    const RuleVerdict verdict = evaluate_rule(rule_, *st, ctx.quota_by_id[p.member_id]);
    r.message = verdict.reason;
    if (verdict.action != Action::kDefragment) {
      r.result = MemberResult::kSkipped;
      say_("Skipping endpoint \"" + p.endpoint + "\": " + verdict.reason);
      // A rule that cannot be evaluated decided nothing: the operator must hear about it, and
      // like etcd-defrag it counts as this member's failure for --continue-on-error.
      if (verdict.action == Action::kRuleError) {
        failed = true;
        r.result = MemberResult::kFailed;
        if (!options_.continue_on_error) return stop_after_failure();
      }
      continue;
    }
    if (st->is_leader() && leader_move_worth_it(report, *st)) {
      maybe_move_leader(ctx, p, report);
      r.was_leader = true;
    }
    if (auto a = allowed("defragmenting"); !a) return abort(a.error().message);

    say_("Defragmenting endpoint \"" + p.endpoint + "\"");
    if (options_.defragmenting) options_.defragmenting(p.endpoint);
    const auto t0 = clock_.now();
    const Status s =
        client_.defragment(p.endpoint, defrag_timeout(st->db_size, options_.command_timeout));
    if (options_.defragmenting) options_.defragmenting("");
    const auto elapsed = clock_.now() - t0;
    r.took = std::chrono::duration_cast<milliseconds>(elapsed);
    if (!s) {
      r.result = MemberResult::kFailed;
      r.message = s.error().message;
      failed = true;
      say_("Failed to defragment endpoint \"" + p.endpoint + "\" after " + took(elapsed) + ": " +
           s.error().message);
    } else {
      r.result = MemberResult::kDefragmented;
      say_("Defragmenting endpoint \"" + p.endpoint + "\" took " + took(elapsed));
      if (auto after = client_.status(p.endpoint)) {
        r.db_size_after = after->db_size;
        r.db_size_in_use_after = after->db_size_in_use;
        say_("Status of endpoint after defragmentation: " + describe(*after));
      }
    }
    // Whether it worked or not, the member must be back before anything else happens. After a
    // failure (the member died, or the call timed out while etcd still defragments) it gets one
    // command timeout rather than the catch-up timeout: a member that is not back by then stops
    // the run at once instead of a minute later (etcd-defrag's behaviour too), and the daemon's
    // health gate tries again on a later poll.
    const auto catch_up = s ? options_.catch_up_timeout
                            : std::min(options_.catch_up_timeout, options_.command_timeout);
    if (auto c = wait_caught_up(ctx, p.endpoint, catch_up); !c) return abort(c.error().message);
    if (!s && !options_.continue_on_error) return stop_after_failure();
    if (options_.wait_between_defrags.count() > 0 && k + 1 < order.size()) {
      clock_.sleep_for(options_.wait_between_defrags);
    }
  }

  if (options_.auto_disalarm) {
    disarm(ctx, report);
  } else if (gate.nospace_active) {
    say_(
        "NOSPACE alarm left active (--auto-disalarm is off): run `etcdctl alarm disarm` once "
        "every member is under its quota");
  }
  if (options_.consistency_check) check_consistency(ctx, report);
  if (report.hash_consistent == false) failed = true;
  return done(failed ? Outcome::kFailed : Outcome::kSuccess);
}

}  // namespace edd::defrag
