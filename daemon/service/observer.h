// What the loop sees, turned into metrics and log lines; and the daemon's health, from when the
// last poll was and whether it reached etcd. Thread-safe: the worker, the keeper and the event
// loop all call it.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/clock.h"
#include "http/daemon_routes.h"
#include "metrics/daemon_metrics.h"
#include "service/daemon_loop.h"
#include "service/floor_notice.h"
#include "service/log.h"

namespace edd::service {

class Observer final : public LoopObserver {
 public:
  Observer(metrics::DaemonMetrics& metrics, Log& log, Clock& clock);

  void on_poll(const PollView& view, std::chrono::nanoseconds took) override;
  void on_run(Trigger trigger, const defrag::RunReport& report) override;
  void on_lock(bool held) override;
  void say(const std::string& line) override;

  // Unhealthy when no poll finished for 3 poll intervals and a minute (the worker is stuck), or
  // the last one reached no member.
  http::Health health(std::chrono::milliseconds poll_interval) const;
  // Called once, after the first poll and before any run it may start (READY=1 must not wait
  // for a defrag). Set before the first poll.
  std::function<void()> first_poll;

 private:
  metrics::DaemonMetrics& metrics_;
  Log& log_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::optional<Clock::time_point> last_poll_;  // guarded by mu_
  bool last_poll_ok_ = false;                   // guarded by mu_
  std::set<std::string> warned_;                // guarded by mu_: said once each
  FloorNotice floor_notice_;                    // guarded by mu_
};

}  // namespace edd::service
