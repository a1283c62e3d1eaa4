#include "service/usage_scan.h"

#include <cstdio>

#include "common/bytes.h"
#include "usage/scan.h"
#include "usage/usage.h"

namespace edd::service {

bool UsageScanSchedule::due(const config::UsageScanConfig& cfg, Clock::time_point now, bool actor,
                            bool run_pending) const {
  if (!cfg.enabled || !actor || run_pending) return false;
  return !last_ || now - *last_ >= cfg.interval;
}

Result<metrics::UsageScanSample> scan_usage(etcd::KeyScanner& scanner, Clock& clock,
                                            const config::UsageScanConfig& cfg,
                                            const std::string& endpoint,
                                            const std::function<bool()>& keep_going) {
  usage::UsageAggregator aggregator(usage::Grouping{});
  usage::ScanHooks hooks;
  hooks.on_key = [&](const etcd::ScannedKey& k) { aggregator.add(k); };
  hooks.keep_going = keep_going;
  auto progress = usage::scan_keys(scanner, clock, {endpoint, "", cfg.page_size, cfg.rate}, hooks);
  if (!progress) return progress.error();
  const auto summary = aggregator.summary(static_cast<std::size_t>(cfg.top));
  metrics::UsageScanSample sample;
  for (const auto& g : summary.groups) sample.prefixes.push_back({g.prefix, g.keys, g.value_bytes});
  // Always there, 0 when every prefix made the top N: sum() over prefixes is the total.
  sample.prefixes.push_back({"other", summary.other.keys, summary.other.value_bytes});
  sample.took = progress->elapsed;
  sample.finished = clock.wall_now();
  return sample;
}

std::string usage_scan_line(const metrics::UsageScanSample& sample, const std::string& endpoint) {
  std::int64_t keys = 0;
  std::int64_t bytes = 0;
  for (const auto& p : sample.prefixes) {
    keys += p.keys;
    bytes += p.value_bytes;
  }
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f s", sample.took.count());
  std::string line = "usage scan on " + endpoint + ": " + std::to_string(keys) + " keys, " +
                     format_bytes_si(bytes) + " of values in " + secs;
  if (sample.prefixes.size() > 1) {
    line += "; largest prefix " + sample.prefixes.front().prefix + " (" +
            format_bytes_si(sample.prefixes.front().value_bytes) + ")";
  }
  return line;
}

}  // namespace edd::service
