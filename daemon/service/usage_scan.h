// The daemon's usage scan: the same paced, serializable scan as `etcd-defragd usage`, run on the
// worker by the lock holder only, in slices after steps that ran nothing (never while a run is
// due), each slice at most a time budget so polls go on, then turned into the top-N prefix
// metrics. Not thread-safe: the worker's only.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "etcd/key_scanner.h"
#include "metrics/usage_metrics.h"
#include "usage/scan.h"
#include "usage/usage.h"

namespace edd::service {

struct UsageSliceInputs {
  bool actor = false;        // this daemon holds the lock
  bool run_pending = false;  // a run was asked for: leave the worker to it
  std::chrono::milliseconds budget{0};
  std::function<bool()> keep_going;  // false: stop before the next page (e.g. SIGTERM)
};

class UsageScanJob {
 public:
  // Starts a scan when due (the first at once, then `interval` after the last one ended) and
  // reads one slice of it. Returns the sample when the scan completed in this slice; an error
  // when a page failed (a scan whose revision was compacted, e.g. by a run, starts again at the
  // next slice; others wait for the next interval). Losing the lock drops a scan in progress.
  Result<std::optional<metrics::UsageScanSample>> slice(etcd::KeyScanner& scanner, Clock& clock,
                                                        const config::UsageScanConfig& cfg,
                                                        const std::string& endpoint,
                                                        const UsageSliceInputs& in);
  bool in_progress() const { return current_.has_value(); }

 private:
  struct Scan {
    usage::ScanOptions options;
    std::size_t top;
    usage::UsageAggregator aggregator;
    usage::ScanCursor cursor;
  };
  metrics::UsageScanSample finish(const Scan& scan, Clock& clock) const;

  std::optional<Scan> current_;
  std::optional<Clock::time_point> last_end_;
};

// One line for the log: keys, bytes, time and the largest prefix.
std::string usage_scan_line(const metrics::UsageScanSample& sample, const std::string& endpoint);

}  // namespace edd::service
