#include "config/maintenance_window.h"

#include <array>
#include <cctype>

namespace edd::config {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

Error bad(std::string_view text, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "invalid maintenance window \"" + std::string(text) +
                        "\": " + std::string(why) +
                        " (expected DAYS HH:MM-HH:MM in UTC, e.g. \"Sat 02:00-04:00\", "
                        "\"daily 01:00-05:00\", \"Mon-Fri 22:00-06:00\")");
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int day_index(std::string_view name) {
  const std::string l = lower(name);
  for (std::size_t i = 0; i < kDays.size(); ++i) {
    if (kDays[i] == l) return static_cast<int>(i);
  }
  return -1;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "H:MM" or "HH:MM" -> minutes since midnight; 24:00 only when allow_24.
int parse_time(std::string_view s, bool allow_24) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || s.size() != colon + 3) {
    return -1;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i != colon && !is_digit(s[i])) return -1;
  }
  int hours = 0;
  for (std::size_t i = 0; i < colon; ++i) hours = hours * 10 + (s[i] - '0');
  const int minutes = (s[colon + 1] - '0') * 10 + (s[colon + 2] - '0');
  if (minutes > 59) return -1;
  if (hours == 24 && minutes == 0 && allow_24) return 24 * 60;
  if (hours > 23) return -1;
  return hours * 60 + minutes;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "daily", or days and ranges of days such as "Mon-Fri,Sun"; a range may wrap past Saturday.
Status parse_days(std::string_view text, std::string_view days, std::bitset<7>& weekdays) {
  if (lower(days) == "daily") {
    weekdays.set();
    return {};
  }
  std::string_view rest = days;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const auto dash = item.find('-');
    const int first = day_index(item.substr(0, dash));
    const int last = dash == std::string_view::npos ? first : day_index(item.substr(dash + 1));
    if (first < 0 || last < 0) {
      return bad(text, "unknown day \"" + std::string(item) +
                           "\"; use daily, Mon, Tue, Wed, Thu, Fri, Sat, Sun or a range Mon-Fri");
    }
    for (int d = first;; d = (d + 1) % 7) {
      weekdays.set(static_cast<std::size_t>(d));
      if (d == last) break;
    }
    if (comma == std::string_view::npos) return {};
    rest.remove_prefix(comma + 1);
  }
}

// "HH:MM-HH:MM": minutes since midnight at the start and the end (24:00 only as an end).
Status parse_times(std::string_view text, std::string_view times, MaintenanceWindow& w) {
  const auto dash = times.find('-');
  if (dash == std::string_view::npos) {
    return bad(text, "bad time range \"" + std::string(times) + "\"");
  }
  const int start = parse_time(times.substr(0, dash), false);
  const int end = parse_time(times.substr(dash + 1), true);
  if (start < 0 || end < 0) {
    return bad(text,
               "bad time range \"" + std::string(times) + "\" (HH 00-23, or 24:00 as an end)");
  }
  if (start == end) {
    return bad(text, "the window is empty; use 00:00-24:00 for a whole day");
  }
  w.start = std::chrono::minutes(start);
  w.end = std::chrono::minutes(end);
  return {};
}

}  // namespace

Result<MaintenanceWindow> parse_maintenance_window(std::string_view text) {
  MaintenanceWindow w;
  w.text = std::string(text);
  const std::string_view s = trim_blanks(text);
  const auto space = s.find_first_of(" \t");
  if (space == std::string_view::npos) return bad(text, "expected days and a time range");
  const std::string_view times = trim_blanks(s.substr(space));
  if (times.find_first_of(" \t") != std::string_view::npos) {
    return bad(text, "unexpected text after the time range");
  }
  if (auto days = parse_days(text, s.substr(0, space), w.weekdays); !days) return days.error();
  if (auto range = parse_times(text, times, w); !range) return range.error();
  return w;
}

bool MaintenanceWindow::contains(std::chrono::system_clock::time_point t) const {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const auto minute = floor<minutes>(t - day);
  const auto today = static_cast<std::size_t>(weekday(sys_days(day)).c_encoding());
  const std::size_t yesterday = (today + 6) % 7;
  if (start < end) return weekdays.test(today) && minute >= start && minute < end;
  // Crosses midnight: the evening part on a listed day, the morning part on the day after one.
  return (weekdays.test(today) && minute >= start) || (weekdays.test(yesterday) && minute < end);
}

bool in_window(const std::vector<MaintenanceWindow>& windows,
               std::chrono::system_clock::time_point t) {
  if (windows.empty()) return true;
  for (const auto& w : windows) {
    if (w.contains(t)) return true;
  }
  return false;
}

}  // namespace edd::config
