#include "service/daemon_loop.h"

#include <future>
#include <utility>

#include "etcd/cluster_view.h"
#include "etcd/endpoint.h"

namespace edd::service {

std::string decision_name(Decision d) {
  switch (d) {
    case Decision::kIdle:
      return "idle";
    case Decision::kPaused:
      return "paused";
    case Decision::kOutsideWindow:
      return "outside maintenance window";
    case Decision::kCooldown:
      return "cooldown";
    case Decision::kNotActor:
      return "not the actor";
    case Decision::kUnhealthy:
      return "waiting for a healthy cluster";
    case Decision::kVersionChange:
      return "waiting for the etcd version change to finish";
    case Decision::kRan:
      return "ran";
    case Decision::kPollFailed:
      break;
  }
  return "poll failed";
}

namespace {

bool same_member_endpoint(const std::string& a, const std::string& b) {
  auto pa = etcd::parse_endpoint(a);
  auto pb = etcd::parse_endpoint(b);
  return pa && pb && pa->grpc_target() == pb->grpc_target();
}

// The members this poll found down or unhealthy ("" when every voter is healthy), in the words of
// the run's health gate. A learner is never asked, so it counts only when it does not answer.
std::string unhealthy_members(const PollView& view) {
  std::string out;
  for (std::size_t i = 0; i < view.members.size(); ++i) {
    const auto& m = view.members[i];
    std::string why;
    if (!m.status) {
      why = "no answer to status";
    } else if (!m.status->is_learner && !view.healthy[i]) {
      why = "health check failed";
    } else {
      continue;
    }
    out += (out.empty() ? "" : "; ") + ("member " + m.endpoint + " is unhealthy (" + why + ")");
  }
  return out;
}

}  // namespace

DaemonLoop::DaemonLoop(etcd::ClusterClient& cluster, etcd::LockClient& store,
                       coord::LeaseLock& lock, Clock& clock, LoopHooks hooks, LoopSettings settings,
                       LoopObserver& observer)
    : cluster_(cluster),
      store_(store),
      lock_(lock),
      clock_(clock),
      hooks_(std::move(hooks)),
      observer_(observer),
      settings_(std::move(settings)) {}

void DaemonLoop::request_run(Trigger trigger, bool bypass_rule) {
  std::lock_guard l(mu_);
  // Alertmanager delivers at least once and repeats: a pending request absorbs the repeats.
  if (!requested_) requested_ = trigger;
  requested_bypass_rule_ = requested_bypass_rule_ || bypass_rule;
}

bool DaemonLoop::run_pending() const {
  std::lock_guard l(mu_);
  return requested_.has_value();
}

std::optional<LastRun> DaemonLoop::last_run() const {
  std::lock_guard l(mu_);
  return last_run_;
}

PollView DaemonLoop::last_view() const {
  std::lock_guard l(mu_);
  return last_view_;
}

std::string DaemonLoop::actor() const {
  std::lock_guard l(mu_);
  return actor_;
}

void DaemonLoop::replace_settings(LoopSettings settings) {
  std::lock_guard l(mu_);
  settings_ = std::move(settings);
}

std::vector<std::string> DaemonLoop::endpoints() const {
  std::lock_guard l(mu_);
  return endpoints_.empty() ? settings_.seeds : endpoints_;
}

PollView DaemonLoop::poll() {
  LoopSettings s;
  {
    std::lock_guard l(mu_);
    s = settings_;
  }
  PollView view;
  auto eps = etcd::discover_endpoints(cluster_, s.seeds, s.cluster);
  if (!eps) {
    // Nobody answered the member list: ask the members we knew, so they show as unhealthy (and
    // keep their series) instead of vanishing from the metrics.
    std::lock_guard l(mu_);
    if (endpoints_.empty()) {
      view.error = eps.error().message;
      return view;
    }
    eps = endpoints_;
  }
  {
    std::lock_guard l(mu_);
    endpoints_ = *eps;
  }
  view.members = etcd::fetch_cluster_view(cluster_, *eps, s.run.view);
  std::vector<std::future<bool>> health;
  for (const auto& m : view.members) {
    const bool ask = m.status && !m.status->is_learner;
    health.push_back(std::async(std::launch::async, [this, ask, ep = m.endpoint] {
      return ask && cluster_.health(ep).has_value();
    }));
  }
  for (std::size_t i = 0; i < view.members.size(); ++i) {
    const auto& m = view.members[i];
    view.healthy.push_back(health[i].get());
    defrag::RuleVerdict verdict{defrag::Action::kSkipRule, "no status: " + m.error};
    if (m.status) verdict = defrag::evaluate_rule(s.rule, *m.status, m.quota_bytes);
    view.verdicts.push_back(std::move(verdict));
    for (auto a : m.alarms) view.nospace = view.nospace || a == etcd::AlarmType::kNoSpace;
    if (m.status && same_member_endpoint(m.endpoint, s.local_endpoint)) {
      view.local_member_id = m.status->member_id;
    }
  }
  bool answered = false;
  for (const auto& m : view.members) answered = answered || m.status.has_value();
  if (!answered) view.error = "no member answered";
  view.version_change = defrag::detect_version_change(view.members);
  view.version_warnings = defrag::version_warnings(view.members);
  return view;
}

std::optional<LastRun> DaemonLoop::read_last_run() {
  std::string key;
  std::optional<LastRun> mine;
  {
    std::lock_guard l(mu_);
    key = settings_.last_run_key;
    mine = last_run_;
  }
  if (!hooks_.decode_last_run) return mine;
  for (const auto& ep : endpoints()) {
    auto kv = store_.get(ep, key);
    if (!kv) continue;
    if (!kv->has_value()) break;
    const auto stored = hooks_.decode_last_run((*kv)->value);
    if (stored && (!mine || stored->unix_seconds > mine->unix_seconds)) mine = stored;
    break;
  }
  return mine;
}

void DaemonLoop::write_last_run(const LastRun& run) {
  std::string key;
  {
    std::lock_guard l(mu_);
    key = settings_.last_run_key;
    last_run_ = run;
    last_run_unsaved_ = static_cast<bool>(hooks_.encode_last_run);
  }
  if (!hooks_.encode_last_run) return;
  const std::string value = hooks_.encode_last_run(run);
  for (const auto& ep : endpoints()) {
    if (store_.put(ep, key, value)) {
      std::lock_guard l(mu_);
      last_run_unsaved_ = false;
      return;
    }
  }
}

// One poll: what the members say, then whether to act on it, then the run.
StepResult DaemonLoop::step() {
  const PollView view = poll_and_publish();
  if (!view.error.empty()) return {Decision::kPollFailed, view.error, std::nullopt};
  const StepInputs in = take_inputs();
  std::string actor_why;  // why this daemon is (the NOSPACE fallback) or is not the actor
  const Actor actor = who_acts(view, &actor_why);
  publish_disk_room(view);  // after the campaign: on our lease
  const std::string fired = first_fired(view);
  // NOSPACE alone is reason enough: the cluster is read-only until every member is defragmented.
  if (!in.requested && fired.empty() && !view.nospace) {
    return {Decision::kIdle, "the rule is false for every member", std::nullopt};
  }
  if (auto wait = reason_to_wait(view, in, actor, actor_why)) return not_now(in, std::move(*wait));
  if (actor == Actor::kFallback) observer_.say(actor_why);
  return run(view, in, actor, fired);
}

PollView DaemonLoop::poll_and_publish() {
  const auto t0 = clock_.now();
  PollView view = poll();
  add_disk_rooms(view);
  observer_.on_poll(view, clock_.now() - t0);
  std::lock_guard l(mu_);
  last_view_ = view;
  return view;
}

DaemonLoop::StepInputs DaemonLoop::take_inputs() {
  StepInputs in;
  std::optional<LastRun> unsaved;
  {
    std::lock_guard l(mu_);
    in.settings = settings_;
    in.requested = requested_;
    in.bypass_rule = requested_bypass_rule_;
    if (last_run_unsaved_) unsaved = last_run_;
  }
  if (unsaved) write_last_run(*unsaved);  // etcd may take writes again now
  return in;
}

// The first healthy member the rule fires for, as "endpoint: reason"; "" when none.
std::string DaemonLoop::first_fired(const PollView& view) {
  for (std::size_t i = 0; i < view.members.size(); ++i) {
    if (view.healthy[i] && view.verdicts[i].action == defrag::Action::kDefragment) {
      return view.members[i].endpoint + ": " + view.verdicts[i].reason;
    }
  }
  return "";
}

// Why not now, in the order an operator would check: the kill switch, the windows, the cooldown,
// who acts, the cluster's health, a version change. nullopt: go.
std::optional<DaemonLoop::Wait> DaemonLoop::reason_to_wait(const PollView& view,
                                                           const StepInputs& in, Actor actor,
                                                           const std::string& actor_why) {
  const LoopSettings& s = in.settings;
  if (hooks_.paused && hooks_.paused()) return Wait{Decision::kPaused, "paused by the kill switch"};
  const auto wall = clock_.wall_now();
  const bool emergency = view.nospace && s.nospace_bypasses_min_interval;
  if (!emergency && hooks_.in_window && !hooks_.in_window(wall)) {
    return Wait{Decision::kOutsideWindow, "outside the maintenance windows"};
  }
  if (!emergency) {
    if (auto cooling = cooldown(s, wall)) return Wait{Decision::kCooldown, *cooling};
  }
  if (actor == Actor::kNo) return Wait{Decision::kNotActor, actor_why};
  // The run's health gate would stop it at once: rather than start and abort a run at every poll
  // while a member reboots or is cut off (each counted as aborted, and repeated aborts warn), wait
  // here and start at the first poll that finds every member healthy. The gate still decides.
  if (auto sick = unhealthy_members(view); !sick.empty()) {
    if (actor == Actor::kFallback) sick += "; " + actor_why;
    return Wait{Decision::kUnhealthy, std::move(sick)};
  }
  // A defrag in the middle of an upgrade or a downgrade adds a second change to a cluster that is
  // already changing (members restart one by one, each must be healthy before the next): an
  // operator would finish one first. NOSPACE included: the operator upgrading is at the keyboard.
  if (view.version_change.change != defrag::VersionChange::kNone &&
      !s.defrag_during_version_change) {
    return Wait{Decision::kVersionChange,
                view.version_change.reason +
                    "; set policy.defrag_during_version_change = true to defragment anyway"};
  }
  return std::nullopt;
}

// The cooldown left by the last run of any daemon (the record in etcd), in wall time.
std::optional<std::string> DaemonLoop::cooldown(const LoopSettings& s, Clock::wall_time wall) {
  const auto last = read_last_run();
  if (!last) return std::nullopt;
  const auto since = std::chrono::seconds(
      std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count() -
      last->unix_seconds);
  if (since >= s.min_interval) return std::nullopt;
  return "last run " + std::to_string(since.count()) + "s ago by " + last->actor +
         " (min_interval " +
         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(s.min_interval).count()) +
         "s)";
}

// A request is considered at this poll, then forgotten: Alertmanager repeats a firing alert
// every repeat_interval, so a repeat during a cooldown is acknowledged, not queued.
StepResult DaemonLoop::not_now(const StepInputs& in, Wait wait) {
  if (in.requested) {
    {
      std::lock_guard l(mu_);
      requested_.reset();
      requested_bypass_rule_ = false;
    }
    observer_.say("run request (" + trigger_name(*in.requested) +
                  ") not taken: " + decision_name(wait.decision) + ": " + wait.why);
  }
  return StepResult{wait.decision, std::move(wait.why), std::nullopt};
}

StepResult DaemonLoop::run(const PollView& view, const StepInputs& in, Actor actor,
                           const std::string& fired) {
  const LoopSettings& s = in.settings;
  const Trigger trigger = in.requested   ? *in.requested
                          : view.nospace ? Trigger::kNoSpace
                                         : Trigger::kRule;
  // The runbook for NOSPACE defragments every member, whatever the rule says.
  const bool bypass_rule = in.bypass_rule || trigger == Trigger::kNoSpace;
  observer_.say("starting a run (" + trigger_name(trigger) +
                "): " + (fired.empty() ? std::string("requested") : fired));
  defrag::RunOptions options = s.run;
  options.cluster = s.cluster;
  options.before_step = [this, actor] { return still_actor(actor); };
  options.defragmenting = [this](const std::string& ep) {
    std::lock_guard l(mu_);
    defragmenting_ = ep;
  };
  options.disk_rooms = [this, prefix = s.disk_room_prefix, local = view.local_member_id] {
    return disk_rooms_for_run(prefix, local);
  };
  defrag::Runner runner(cluster_, clock_, bypass_rule ? rule::Rule() : s.rule, options,
                        [this](const std::string& line) { observer_.say(line); });
  defrag::RunReport report = runner.run(s.seeds);
  {
    std::lock_guard l(mu_);
    requested_.reset();
    requested_bypass_rule_ = false;
    defragmenting_.clear();
  }
  observer_.on_run(trigger, report);
  // Poll again at once, so the metrics and /v1/status show the new sizes now, not a poll later.
  poll_and_publish();
  // An aborted run changed nothing: it must not start the cooldown (a member restarting for a
  // minute would otherwise block the next hour).
  if (report.outcome != defrag::Outcome::kAborted) {
    const auto at =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.wall_now().time_since_epoch());
    write_last_run(
        {at.count(), defrag::outcome_name(report.outcome), s.identity, trigger_name(trigger)});
  }
  return {Decision::kRan, defrag::outcome_name(report.outcome), std::move(report)};
}

}  // namespace edd::service
