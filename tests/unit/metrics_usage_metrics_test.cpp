// The usage scan's series: top N prefixes plus "other", the old ones gone after the next scan.
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <sstream>
#include <string>

#include "metrics/daemon_metrics.h"

using edd::metrics::DaemonMetrics;
using edd::metrics::UsageScanSample;

namespace {

std::optional<double> value_of(const std::string& text, const std::string& s) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > s.size() && line.compare(0, s.size(), s) == 0 && line[s.size()] == ' ') {
      return std::stod(line.substr(s.size() + 1));
    }
  }
  return std::nullopt;
}

std::string keys(const std::string& prefix) {
  return "etcd_defragd_prefix_keys{prefix=\"" + prefix + "\"}";
}
std::string bytes(const std::string& prefix) {
  return "etcd_defragd_prefix_value_bytes{prefix=\"" + prefix + "\"}";
}

const std::chrono::system_clock::time_point kAt{std::chrono::seconds(1'700'000'000)};

}  // namespace

TEST_CASE("usage metrics are 0 before the first scan and carry no prefix") {
  DaemonMetrics m("0.1.0");
  const auto text = m.serialize();
  CHECK(value_of(text, "etcd_defragd_usage_scan_timestamp_seconds") == 0.0);
  CHECK(value_of(text, "etcd_defragd_usage_scan_duration_seconds") == 0.0);
  CHECK(text.find("etcd_defragd_prefix_keys{") == std::string::npos);
}

TEST_CASE("usage metrics export the scan's top prefixes and other, with its time and duration") {
  DaemonMetrics m("0.1.0");
  m.record_usage_scan(UsageScanSample{
      {{"/registry/events", 40, 4000}, {"/registry/pods", 10, 2500}, {"other", 7, 90}},
      std::chrono::milliseconds(1500),
      kAt});
  const auto text = m.serialize();
  CHECK(value_of(text, keys("/registry/events")) == 40.0);
  CHECK(value_of(text, bytes("/registry/events")) == 4000.0);
  CHECK(value_of(text, bytes("/registry/pods")) == 2500.0);
  CHECK(value_of(text, keys("other")) == 7.0);
  CHECK(value_of(text, bytes("other")) == 90.0);
  CHECK(value_of(text, "etcd_defragd_usage_scan_duration_seconds") == 1.5);
  CHECK(value_of(text, "etcd_defragd_usage_scan_timestamp_seconds") == 1.7e9);
}

TEST_CASE("a prefix that falls out of the top N disappears at the next scan") {
  DaemonMetrics m("0.1.0");
  m.record_usage_scan(UsageScanSample{
      {{"/registry/events", 40, 4000}, {"/registry/pods", 10, 2500}, {"other", 0, 0}},
      std::chrono::seconds(1),
      kAt});
  m.record_usage_scan(UsageScanSample{
      {{"/registry/configmaps", 5, 9000}, {"/registry/events", 41, 4100}, {"other", 10, 2500}},
      std::chrono::seconds(1),
      kAt + std::chrono::hours(3)});
  const auto text = m.serialize();
  CHECK_FALSE(value_of(text, keys("/registry/pods")).has_value());
  CHECK_FALSE(value_of(text, bytes("/registry/pods")).has_value());
  CHECK(value_of(text, bytes("/registry/configmaps")) == 9000.0);
  CHECK(value_of(text, keys("/registry/events")) == 41.0);
  CHECK(value_of(text, bytes("other")) == 2500.0);
  CHECK(value_of(text, "etcd_defragd_usage_scan_timestamp_seconds") == 1.7e9 + 3 * 3600);
}

TEST_CASE("a real prefix named other and the other bucket add up") {
  DaemonMetrics m("0.1.0");
  m.record_usage_scan(
      UsageScanSample{{{"other", 2, 20}, {"other", 3, 30}}, std::chrono::seconds(1), kAt});
  const auto text = m.serialize();
  CHECK(value_of(text, keys("other")) == 5.0);
  CHECK(value_of(text, bytes("other")) == 50.0);
}
