#include "common/bytes.h"

#include <cmath>
#include <cstdio>

namespace edd {

std::string format_bytes_si(std::int64_t bytes) {
  // The magnitude as unsigned: negating INT64_MIN would be undefined.
  const bool negative = bytes < 0;
  const std::uint64_t magnitude =
      negative ? ~static_cast<std::uint64_t>(bytes) + 1 : static_cast<std::uint64_t>(bytes);
  const std::string sign = negative ? "-" : "";
  if (magnitude < 10) return sign + std::to_string(magnitude) + " B";
  static constexpr const char* kSuffixes[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  const double value = static_cast<double>(magnitude);
  const double exponent = std::floor(std::log(value) / std::log(1000.0));
  const double scaled = std::floor(value / std::pow(1000.0, exponent) * 10 + 0.5) / 10;
  char buf[32];
  std::snprintf(buf, sizeof buf, scaled < 10 ? "%.1f %s" : "%.0f %s", scaled,
                kSuffixes[static_cast<int>(exponent)]);
  return sign + buf;
}

}  // namespace edd
