#include "metrics/usage_metrics.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace edd::metrics {

UsageMetrics::UsageMetrics(prometheus::Registry& registry)
    : keys_(prometheus::BuildGauge()
                .Name("etcd_defragd_prefix_keys")
                .Help("Keys under each of the largest prefixes at the last usage scan (the top N "
                      "by value bytes; prefix=\"other\" holds the rest).")
                .Register(registry)),
      value_bytes_(prometheus::BuildGauge()
                       .Name("etcd_defragd_prefix_value_bytes")
                       .Help("Bytes of the values under each of the largest prefixes at the last "
                             "usage scan (prefix=\"other\" holds the rest).")
                       .Register(registry)),
      duration_(prometheus::BuildGauge()
                    .Name("etcd_defragd_usage_scan_duration_seconds")
                    .Help("How long the last completed usage scan took (0: no scan yet).")
                    .Register(registry)
                    .Add({})),
      timestamp_(prometheus::BuildGauge()
                     .Name("etcd_defragd_usage_scan_timestamp_seconds")
                     .Help("Unix time the last usage scan completed (0: no scan yet).")
                     .Register(registry)
                     .Add({})) {}

void UsageMetrics::record(const UsageScanSample& scan) {
  std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>> now;
  for (const auto& p : scan.prefixes) {
    auto& k = keys_.Add({{"prefix", p.prefix}});
    auto& b = value_bytes_.Add({{"prefix", p.prefix}});
    // A real prefix named "other" and the bucket add up rather than overwrite each other.
    const bool again = now.count(p.prefix) > 0;
    k.Set((again ? k.Value() : 0) + static_cast<double>(p.keys));
    b.Set((again ? b.Value() : 0) + static_cast<double>(p.value_bytes));
    now[p.prefix] = {&k, &b};
  }
  for (const auto& [prefix, gauges] : series_) {
    if (now.count(prefix) > 0) continue;
    keys_.Remove(gauges.first);
    value_bytes_.Remove(gauges.second);
  }
  series_ = std::move(now);
  duration_.Set(scan.took.count());
  timestamp_.Set(std::chrono::duration<double>(scan.finished.time_since_epoch()).count());
}

void UsageMetrics::clear_prefixes() {
  for (const auto& [prefix, gauges] : series_) {
    keys_.Remove(gauges.first);
    value_bytes_.Remove(gauges.second);
  }
  series_.clear();
}

}  // namespace edd::metrics
