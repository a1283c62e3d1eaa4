#include "policy/reclaim_floor.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/bytes.h"

namespace edd::policy {

namespace {

constexpr double kMaxRatio = 0.5;  // a floor above half the quota would never let a defrag run
constexpr std::int64_t kMaxBytes = 1LL << 40;  // etcd's quota tops out far below 1 TiB

struct Unit {
  std::string_view name;
  std::int64_t factor;
};
constexpr Unit kUnits[] = {{"", 1},
                           {"B", 1},
                           {"kB", 1000},
                           {"KB", 1000},
                           {"KiB", 1LL << 10},
                           {"MB", 1000'000},
                           {"MiB", 1LL << 20},
                           {"GB", 1000'000'000},
                           {"GiB", 1LL << 30}};

Error bad(std::string_view text, const std::string& why) {
  return Error{ErrorCode::kInvalidArgument,
               why +
                   ": expected a size such as \"64MiB\" or a share of the quota such as \"2%\", "
                   "got \"" +
                   std::string(text) + "\""};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::int64_t ReclaimFloor::bytes_for(std::int64_t quota_bytes) const {
  const auto share =
      static_cast<std::int64_t>(std::llround(quota_ratio * static_cast<double>(quota_bytes)));
  return std::max({bytes, share, std::int64_t{0}});
}

Result<ReclaimFloor> parse_reclaim_floor(std::string_view text) {
  const std::string_view s = trim(text);
  // The number: digits and at most one dot, then the unit.
  std::size_t end = 0;
  while (end < s.size() && ((s[end] >= '0' && s[end] <= '9') || s[end] == '.')) ++end;
  if (end == 0) return bad(text, "not a number");
  double value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + end, value);
  if (ec != std::errc() || ptr != s.data() + end || !std::isfinite(value)) {
    return bad(text, "not a number");
  }
  const std::string_view unit = trim(s.substr(end));
  ReclaimFloor floor;
  if (unit == "%") {
    if (value / 100 > kMaxRatio) return bad(text, "at most 50% of the quota");
    floor.quota_ratio = value / 100;
    return floor;
  }
  const auto* u = std::find_if(std::begin(kUnits), std::end(kUnits),
                               [&](const Unit& k) { return k.name == unit; });
  if (u == std::end(kUnits)) return bad(text, "unknown unit");
  const double total = value * static_cast<double>(u->factor);
  if (total > static_cast<double>(kMaxBytes)) return bad(text, "at most 1TiB");
  floor.bytes = static_cast<std::int64_t>(std::llround(total));
  return floor;
}

std::string to_string(const ReclaimFloor& floor) {
  if (floor.quota_ratio > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g%%", floor.quota_ratio * 100);
    std::string out = buf;
    if (floor.bytes > 0) out += " (at least " + format_bytes_si(floor.bytes) + ")";
    return out;
  }
  return format_bytes_si(floor.bytes);
}

}  // namespace edd::policy
