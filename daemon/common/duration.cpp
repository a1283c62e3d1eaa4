#include "common/duration.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace edd {
namespace {

struct Unit {
  std::string_view name;
  double nanos;
};

constexpr Unit kUnits[] = {{"ns", 1.0}, {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3},
                           {"ms", 1e6}, {"s", 1e9},  {"m", 60.0 * 1e9},  {"h", 3600.0 * 1e9}};

Error bad(std::string_view text, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument, "invalid duration \"" + std::string(text) +
                                                     "\": " + std::string(why) +
                                                     " (use Go syntax such as 500ms, 30s, 1m30s)");
}

bool in_number(char c) { return (c >= '0' && c <= '9') || c == '.'; }

// Takes one "<number><unit>" term off the front of `s`: its length in nanoseconds.
Result<double> take_term(std::string_view text, std::string_view& s) {
  std::size_t i = 0;
  bool digits = false;
  while (i < s.size() && in_number(s[i])) {
    digits = digits || s[i] != '.';
    ++i;
  }
  if (!digits) return bad(text, "expected a number");
  double number = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + i, number);
  if (ec != std::errc() || end != s.data() + i) return bad(text, "bad number");
  s.remove_prefix(i);
  std::size_t u = 0;
  while (u < s.size() && !in_number(s[u])) ++u;
  if (u == 0) return bad(text, "missing unit");
  const std::string_view unit = s.substr(0, u);
  s.remove_prefix(u);
  for (const auto& k : kUnits) {
    if (k.name == unit) return number * k.nanos;
  }
  return bad(text, "unknown unit \"" + std::string(unit) + "\"");
}

}  // namespace

Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds{0};
  if (s.empty()) return bad(text, "empty");

  double total = 0;
  while (!s.empty()) {
    const auto term = take_term(text, s);
    if (!term) return term.error();
    total += *term;
  }
  if (total > static_cast<double>(std::numeric_limits<std::int64_t>::max())) {
    return bad(text, "too large");
  }
  const auto nanos = static_cast<std::int64_t>(std::llround(total));
  return std::chrono::nanoseconds{negative ? -nanos : nanos};
}

std::string format_go_duration(std::chrono::nanoseconds d) {
  std::int64_t n = d.count();
  if (n == 0) return "0s";
  std::string sign;
  if (n < 0) {
    sign = "-";
    n = -n;
  }
  auto fixed = [](std::int64_t value, std::int64_t unit, const char* suffix) {
    // Go prints sub-second durations with the largest unit and no trailing zeros.
    std::string whole = std::to_string(value / unit);
    std::int64_t frac = value % unit;
    if (frac == 0) return whole + suffix;
    std::string digits = std::to_string(frac);
    digits.insert(0, std::to_string(unit).size() - 1 - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    return whole + "." + digits + suffix;
  };
  if (n < 1000) return sign + std::to_string(n) + "ns";
  if (n < 1000000) return sign + fixed(n, 1000, "\xC2\xB5s");
  if (n < 1000000000) return sign + fixed(n, 1000000, "ms");
  const std::int64_t hours = n / 3600000000000LL;
  n %= 3600000000000LL;
  const std::int64_t minutes = n / 60000000000LL;
  n %= 60000000000LL;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + fixed(n, 1000000000, "s");
}

}  // namespace edd
