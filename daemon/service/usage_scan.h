// The daemon's usage scan: the same paced, serializable scan as `etcd-defragd usage`, run on the
// worker between polls by the lock holder only — never while a run is due or in progress, at a
// low rate — and turned into the top-N prefix metrics. Not thread-safe: the worker's only.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "etcd/key_scanner.h"
#include "metrics/usage_metrics.h"

namespace edd::service {

class UsageScanSchedule {
 public:
  // Whether a scan should start now: enabled, this daemon is the actor, no run is pending, and
  // the interval has passed since the last scan that finished or failed (the first at once).
  bool due(const config::UsageScanConfig& cfg, Clock::time_point now, bool actor,
           bool run_pending) const;
  void attempted(Clock::time_point now) { last_ = now; }

 private:
  std::optional<Clock::time_point> last_;
};

// Scans every key on endpoint; keep_going() false stops it before its next page.
Result<metrics::UsageScanSample> scan_usage(etcd::KeyScanner& scanner, Clock& clock,
                                            const config::UsageScanConfig& cfg,
                                            const std::string& endpoint,
                                            const std::function<bool()>& keep_going);

// One line for the log: keys, bytes, time and the largest prefix.
std::string usage_scan_line(const metrics::UsageScanSample& sample, const std::string& endpoint);

}  // namespace edd::service
