// Maintenance windows: when the daemon may act, in UTC, e.g. "Sat 02:00-04:00",
// "daily 01:00-05:00", "Mon-Fri 22:00-06:00", "Sat,Sun 00:00-24:00". Pure functions, thread-safe.
//
// Syntax: DAYS HH:MM-HH:MM. DAYS is "daily" or a comma list of days (Mon Tue Wed Thu Fri Sat Sun,
// any case) and day ranges ("Mon-Fri"; "Fri-Mon" wraps over the weekend). Times are UTC; the start
// is included and the end excluded; "24:00" is allowed as an end. An end before the start crosses
// midnight: the window opens on each listed day and closes the next morning ("Sat 23:00-02:00"
// covers Sunday 01:30).
#pragma once

#include <bitset>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace edd::config {

struct MaintenanceWindow {
  std::string text;               // as written, for messages
  std::bitset<7> weekdays;        // index = std::chrono::weekday::c_encoding(): 0 = Sunday
  std::chrono::minutes start{0};  // since 00:00 UTC
  std::chrono::minutes end{0};    // exclusive; 24h at most; before start = ends the next day

  bool contains(std::chrono::system_clock::time_point t) const;
};

// kInvalidArgument: `invalid maintenance window "Sat 2-4": expected HH:MM-HH:MM ...`.
Result<MaintenanceWindow> parse_maintenance_window(std::string_view text);

// True when no windows are configured or `t` falls in at least one of them.
bool in_window(const std::vector<MaintenanceWindow>& windows,
               std::chrono::system_clock::time_point t);

}  // namespace edd::config
