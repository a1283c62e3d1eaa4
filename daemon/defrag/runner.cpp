#include "defrag/runner.h"

#include <cstdio>
#include <future>

#include "common/bytes.h"
#include "defrag/run_context.h"
#include "defrag/versions.h"
#include "etcd/endpoint.h"

namespace edd::defrag {

using std::chrono::milliseconds;

Runner::Runner(etcd::ClusterClient& client, Clock& clock, rule::Rule rule, RunOptions options,
               Say say)
    : client_(client),
      clock_(clock),
      rule_(std::move(rule)),
      options_(std::move(options)),
      say_(std::move(say)) {}

// The runbook. Nothing changes in the cluster before compact(); every step that changes it asks
// allowed() first (the daemon: do we still hold the lock?).
RunReport Runner::run(const std::vector<std::string>& seed_endpoints) {
  Context ctx;
  ctx.started = clock_.now();
  if (auto stop = discover(ctx, seed_endpoints)) return finish(ctx, *stop);
  if (auto stop = gate(ctx)) return finish(ctx, *stop);
  plan(ctx);
  if (options_.dry_run) {
    show_dry_run(ctx);
    return finish(ctx, Outcome::kDryRun);
  }
  if (auto stop = compact(ctx)) return finish(ctx, *stop);
  if (auto stop = defragment_members(ctx)) return finish(ctx, *stop);
  disarm_nospace(ctx);
  if (options_.consistency_check) check_consistency(ctx);
  const bool failed = ctx.member_failed || ctx.report.hash_consistent == false;
  return finish(ctx, failed ? Outcome::kFailed : Outcome::kSuccess);
}

RunReport Runner::finish(Context& ctx, Outcome outcome) {
  ctx.report.outcome = outcome;
  ctx.report.total = std::chrono::duration_cast<milliseconds>(clock_.now() - ctx.started);
  return std::move(ctx.report);
}

RunReport Runner::finish(Context& ctx, const Stop& stop) {
  ctx.report.abort_reason = stop.reason;
  say_(stop.outcome == Outcome::kAborted ? "Aborting: " + stop.reason : stop.reason);
  return finish(ctx, stop.outcome);
}

Runner::Stop Runner::stop_after_failure() {
  // --continue-on-error=false: the first member that failed (its defrag, or its rule) ends it.
  return Stop{Outcome::kFailed, "stopped after the first failure (--continue-on-error=false)"};
}

Status Runner::allowed(const char* step) {
  if (!options_.before_step) return {};
  auto s = options_.before_step();
  if (!s)
    return make_error(s.error().code,
                      std::string("stopped before ") + step + ": " + s.error().message);
  return s;
}

// Discover: which members, and whose health gates the run.
Runner::Next Runner::discover(Context& ctx, const std::vector<std::string>& seed_endpoints) {
  auto endpoints = etcd::discover_endpoints(client_, seed_endpoints, options_.cluster);
  if (!endpoints) return Stop{Outcome::kAborted, endpoints.error().message};
  ctx.endpoints = std::move(*endpoints);
  say_("Performing health check.");
  auto targets = health_targets(ctx.endpoints);
  if (!targets) return Stop{Outcome::kAborted, targets.error().message};
  ctx.health_targets = std::move(*targets);
  return std::nullopt;
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

std::vector<HealthCheck> Runner::check_health(const std::vector<std::string>& endpoints,
                                              bool verbose) {
  std::vector<std::future<std::pair<Status, std::chrono::nanoseconds>>> futures;
  for (const auto& ep : endpoints) {
    futures.push_back(std::async(std::launch::async, [this, ep] {
      const auto t0 = clock_.now();
      Status s = client_.health(ep);
      return std::pair{std::move(s),
                       std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now() - t0)};
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

// Gate: every member healthy, every member's status read, and the alarms known.
Runner::Next Runner::gate(Context& ctx) {
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
    return Stop{Outcome::kAborted, why};
  }
  ctx.nospace_at_start = gate.nospace_active;
  if (gate.nospace_active) say_("NOSPACE alarm is active: the cluster refuses writes");
  // etcd-defrag goes on in these cases, and so does the CLI; the daemon decides before it starts.
  for (const auto& line : version_warnings(ctx.view)) say_("WARNING: " + line);
  return std::nullopt;
}

// Plan: the order, followers first and the leader last, and what the rule says of each.
void Runner::plan(Context& ctx) {
  ctx.plan =
      make_plan(ctx.view, rule_,
                PlanPolicy{options_.exclude_localhost, options_.min_reclaim, ctx.nospace_at_start});
  for (const auto& p : ctx.plan) {
    MemberReport r;
    r.endpoint = p.endpoint;
    r.name = p.name;
    r.member_id = p.member_id;
    r.was_leader = p.is_leader;
    r.message = p.reason;
    if (const auto* m = find_member(ctx.view, p.member_id)) {
      r.db_size_before = m->status->db_size;
      r.db_size_in_use_before = m->status->db_size_in_use;
    }
    ctx.report.members.push_back(std::move(r));
  }
  // etcd-defrag prints this line; scripts written for it look for it.
  std::string list;
  std::size_t count = 0;
  for (const auto& p : ctx.plan) {
    if (p.action == Action::kSkipLearner || p.action == Action::kExcluded) continue;
    list += (count++ == 0 ? "" : " ") + p.endpoint;
  }
  say_(std::to_string(count) + " endpoints need to be defragmented: [" + list + "]");
}

void Runner::show_dry_run(Context& ctx) {
  say_("Dry run: nothing will be changed. The plan, in order:");
  for (std::size_t i = 0; i < ctx.plan.size(); ++i) {
    const PlannedMember& p = ctx.plan[i];
    say_("  " + std::to_string(i + 1) + ". " + p.endpoint + (p.is_leader ? " (leader)" : "") +
         ": " + action_name(p.action) + " — " + p.reason);
    ctx.report.members[i].result = MemberResult::kSkipped;
    ctx.report.members[i].message = "dry run: would " + action_name(p.action);
  }
  if (options_.compaction) say_("Would compact to the current revision first.");
}

// Compact to the current revision, so the defrags reclaim the old revisions too.
Runner::Next Runner::compact(Context& ctx) {
  if (!options_.compaction) return std::nullopt;
  // Through the first member we will defragment: a physical compaction returns once that
  // member has compacted, so its defrag reclaims the most. Never through a learner: etcd
  // refuses it ("rpc not supported for learner").
  std::string via;
  for (const auto& p : ctx.plan) {
    if (p.action == Action::kDefragment) {
      via = p.endpoint;
      break;
    }
  }
  for (const auto& p : ctx.plan) {
    if (via.empty() && p.action != Action::kSkipLearner) via = p.endpoint;
  }
  if (via.empty())
    return Stop{Outcome::kAborted, "compaction: no voting member among the endpoints"};
  if (auto a = allowed("compaction"); !a) {
    return Stop{Outcome::kAborted, a.error().message + ", nothing was changed"};
  }
  auto st = client_.status(via);
  if (!st) return Stop{Outcome::kAborted, "compaction: " + st.error().message};
  say_("Running compaction until revision: " + std::to_string(st->revision) + " ...");
  if (auto c = client_.compact(via, st->revision, true); !c) {
    return Stop{Outcome::kAborted, "compaction failed: " + c.error().message};
  }
  ctx.report.compacted_revision = st->revision;
  say_("Compaction successful");
  return std::nullopt;
}

}  // namespace edd::defrag
