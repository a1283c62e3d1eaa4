#include "service/observer.h"

#include <utility>
#include <vector>

namespace edd::service {

Observer::Observer(metrics::DaemonMetrics& metrics, Log& log, Clock& clock)
    : metrics_(metrics), log_(log), clock_(clock) {}

void Observer::on_poll(const PollView& view, std::chrono::nanoseconds took) {
  std::vector<metrics::MemberVerdict> verdicts;
  for (std::size_t i = 0; i < view.members.size(); ++i) {
    metrics::MemberVerdict v;
    v.healthy = view.healthy[i];
    const auto action = view.verdicts[i].action;
    if (view.members[i].status && action != defrag::Action::kRuleError) {
      v.rule_match = action == defrag::Action::kDefragment;
    }
    verdicts.push_back(v);
  }
  metrics_.update_members(view.members, verdicts);
  if (view.local_disk_room) {
    metrics_.set_data_dir_free(view.local_disk_room->free_bytes);
  } else {
    metrics_.set_data_dir_free(std::nullopt);
  }
  metrics_.record_poll(took, view.error.empty());
  if (!view.error.empty()) log_.warn("poll failed: " + view.error);
  std::function<void()> notify;
  {
    std::lock_guard l(mu_);
    // A known defrag bug or a version change is said once, when it first shows.
    for (const auto& line : view.version_warnings) {
      if (warned_.insert(line).second) log_.warn(line);
    }
    last_poll_ = clock_.now();
    last_poll_ok_ = view.error.empty();
    notify = std::exchange(first_poll, nullptr);
  }
  if (notify) notify();
}

void Observer::on_run(Trigger trigger, const defrag::RunReport& report) {
  metrics_.record_run(trigger, report, clock_.wall_now());
  log_.info("run finished (" + trigger_name(trigger) +
            "): " + defrag::outcome_name(report.outcome) + ", reclaimed " +
            std::to_string(report.reclaimed_bytes()) + " bytes" +
            (report.abort_reason.empty() ? "" : " (" + report.abort_reason + ")"));
}

void Observer::on_lock(bool held) {
  metrics_.set_lock_held(held);
  log_.info(held ? "lock: this daemon is the actor" : "lock: this daemon is no longer the actor");
}

void Observer::say(const std::string& line) { log_.info(line); }

http::Health Observer::health(std::chrono::milliseconds poll_interval) const {
  std::lock_guard l(mu_);
  if (!last_poll_) return {false, "no poll yet"};
  if (clock_.now() - *last_poll_ > 3 * poll_interval + std::chrono::minutes(1)) {
    return {false, "no poll for more than 3 poll intervals"};
  }
  if (!last_poll_ok_) return {false, "the last poll reached no member"};
  return {true, ""};
}

}  // namespace edd::service
