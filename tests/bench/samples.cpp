#include "samples.h"

#include <algorithm>
#include <cmath>

namespace edd::bench {

bool overlaps(const Sample& sample, const Window& window) {
  const double end_s = sample.start_s + sample.latency_ms / 1000.0;
  return sample.start_s <= window.end_s && end_s >= window.begin_s;
}

LatencyStats stats_in(const std::vector<Sample>& samples, const Window& window,
                      const std::function<bool(const Sample&)>& filter) {
  LatencyStats stats;
  std::vector<double> latencies;
  for (const Sample& s : samples) {
    if (!overlaps(s, window) || (filter && !filter(s))) continue;
    ++stats.count;
    if (!s.ok) ++stats.failed;
    latencies.push_back(s.latency_ms);
  }
  if (latencies.empty()) return stats;
  std::sort(latencies.begin(), latencies.end());
  stats.max_ms = latencies.back();
  // Nearest rank.
  const auto rank =
      static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(latencies.size())));
  stats.p99_ms = latencies[std::clamp<std::size_t>(rank, 1, latencies.size()) - 1];
  return stats;
}

std::vector<Sample> started_in(const std::vector<Sample>& samples, const Window& window) {
  std::vector<Sample> out;
  for (const Sample& s : samples) {
    if (s.start_s >= window.begin_s && s.start_s <= window.end_s) out.push_back(s);
  }
  return out;
}

}  // namespace edd::bench
