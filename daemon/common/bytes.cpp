#include "common/bytes.h"

#include <cmath>
#include <cstdio>

namespace edd {

std::string format_bytes_si(std::int64_t bytes) {
  if (bytes < 0) return "-" + format_bytes_si(-bytes);
  if (bytes < 10) return std::to_string(bytes) + " B";
  static constexpr const char* kSuffixes[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  const double value = static_cast<double>(bytes);
  const double exponent = std::floor(std::log(value) / std::log(1000.0));
  const double scaled = std::floor(value / std::pow(1000.0, exponent) * 10 + 0.5) / 10;
  char buf[32];
  std::snprintf(buf, sizeof buf, scaled < 10 ? "%.1f %s" : "%.0f %s", scaled,
                kSuffixes[static_cast<int>(exponent)]);
  return buf;
}

}  // namespace edd
