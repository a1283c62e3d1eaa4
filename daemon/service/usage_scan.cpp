#include "service/usage_scan.h"

#include <cstdio>

#include "common/bytes.h"

namespace edd::service {

Result<std::optional<metrics::UsageScanSample>> UsageScanJob::slice(
    etcd::KeyScanner& scanner, Clock& clock, const config::UsageScanConfig& cfg,
    const std::string& endpoint, const UsageSliceInputs& in) {
  if (!cfg.enabled || !in.actor) {
    current_.reset();  // another daemon scans now
    return std::optional<metrics::UsageScanSample>{};
  }
  if (in.run_pending) return std::optional<metrics::UsageScanSample>{};
  if (!current_) {
    if (last_end_ && clock.now() - *last_end_ < cfg.interval) {
      return std::optional<metrics::UsageScanSample>{};
    }
    usage::ScanOptions options{endpoint, "", cfg.page_size, cfg.rate};
    current_.emplace(Scan{options, static_cast<std::size_t>(cfg.top),
                          usage::UsageAggregator(usage::Grouping{}), usage::start_scan(options)});
  }
  const auto slice_start = clock.now();
  usage::ScanHooks hooks;
  hooks.on_key = [this](const etcd::ScannedKey& k) { current_->aggregator.add(k); };
  hooks.keep_going = [&] {
    return clock.now() - slice_start < in.budget && (!in.keep_going || in.keep_going());
  };
  auto s = usage::continue_scan(scanner, clock, current_->options, current_->cursor, hooks);
  if (!s) {
    current_.reset();
    if (s.error().code != ErrorCode::kCompacted) last_end_ = clock.now();
    return s.error();
  }
  if (!current_->cursor.done) return std::optional<metrics::UsageScanSample>{};
  auto sample = finish(*current_, clock);
  current_.reset();
  last_end_ = clock.now();
  return std::optional<metrics::UsageScanSample>{std::move(sample)};
}

metrics::UsageScanSample UsageScanJob::finish(const Scan& scan, Clock& clock) const {
  const auto summary = scan.aggregator.summary(scan.top);
  metrics::UsageScanSample sample;
  for (const auto& g : summary.groups) sample.prefixes.push_back({g.prefix, g.keys, g.value_bytes});
  // Always there, 0 when every prefix made the top N: sum() over prefixes is the total.
  sample.prefixes.push_back({"other", summary.other.keys, summary.other.value_bytes});
  sample.took = scan.cursor.progress.elapsed;
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
