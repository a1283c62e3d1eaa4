// The series of the daemon's usage scan: keys and value bytes of the top N prefixes plus one
// "other" bucket (bounded cardinality: a prefix that falls out of the top N disappears), the
// scan's duration and when it finished. Lives in DaemonMetrics' registry and under its lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace prometheus {
class Gauge;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace edd::metrics {

struct PrefixSample {
  std::string prefix;  // "other" for the bucket of every prefix beyond the top N
  std::int64_t keys = 0;
  std::int64_t value_bytes = 0;
};

struct UsageScanSample {
  std::vector<PrefixSample> prefixes;  // the top N, then "other"
  std::chrono::duration<double> took{0};
  std::chrono::system_clock::time_point finished;
};

// Not thread-safe: DaemonMetrics calls it under its own lock.
class UsageMetrics {
 public:
  explicit UsageMetrics(prometheus::Registry& registry);
  // Replaces the previous scan's prefix series with this scan's.
  void record(const UsageScanSample& scan);
  // Removes every prefix series (a daemon that lost the lock: the new actor's scan speaks now);
  // the duration and timestamp of its last scan stay.
  void clear_prefixes();

 private:
  prometheus::Family<prometheus::Gauge>& keys_;
  prometheus::Family<prometheus::Gauge>& value_bytes_;
  prometheus::Gauge& duration_;
  prometheus::Gauge& timestamp_;
  std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>> series_;
};

}  // namespace edd::metrics
