// Maintenance windows: the tiny "DAYS HH:MM-HH:MM" syntax (UTC) and in_window at any instant.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "config/loader.h"
#include "config/maintenance_window.h"

using namespace edd::config;
using namespace std::chrono;

namespace {

// 2024-01-06 is a Saturday.
system_clock::time_point at(int day_of_january, int hour, int minute, int second = 0) {
  return sys_days{year{2024} / January / day_of_january} + hours(hour) + minutes(minute) +
         seconds(second);
}

MaintenanceWindow window(std::string_view text) {
  auto w = parse_maintenance_window(text);
  INFO(text);
  REQUIRE(w.has_value());
  return *w;
}

std::vector<MaintenanceWindow> windows(std::initializer_list<std::string_view> texts) {
  std::vector<MaintenanceWindow> out;
  for (const auto t : texts) out.push_back(window(t));
  return out;
}

}  // namespace

TEST_CASE("a config maintenance window parses days, lists, ranges and times") {
  const auto sat = window("Sat 02:00-04:00");
  CHECK(sat.weekdays.to_string() == "1000000");  // bit 6 = Saturday
  CHECK(sat.start == 120min);
  CHECK(sat.end == 240min);
  CHECK(sat.text == "Sat 02:00-04:00");
  CHECK(window("daily 01:00-05:00").weekdays.all());
  CHECK(window("DAILY 1:00-5:00").weekdays.all());
  CHECK(window("Mon-Fri 22:00-06:00").weekdays.to_string() == "0111110");
  CHECK(window("Fri-Mon 00:00-24:00").weekdays.to_string() == "1100011");
  CHECK(window("sat,SUN 00:00-24:00").weekdays.to_string() == "1000001");
  CHECK(window("Mon,Wed-Thu 10:30-11:45").weekdays.to_string() == "0011010");
  CHECK(window("  Tue\t23:59-24:00 ").end == 1440min);
}

TEST_CASE("a config maintenance window rejects bad text with the expected syntax") {
  for (const char* bad :
       {"", "Sat", "02:00-04:00", "Saturday 02:00-04:00", "Sat 2-4", "Sat 02:00", "Sat 24:00-02:00",
        "Sat 02:60-03:00", "Sat 25:00-26:00", "Sat 02:00-04:00 UTC", "Sat,,Sun 02:00-04:00",
        "Mon- 02:00-04:00", "Sat 02:00-02:00", "Sat 0200-0400", "Sat 02:0-04:00", "Sat -02:00"}) {
    auto w = parse_maintenance_window(bad);
    INFO(bad);
    REQUIRE_FALSE(w.has_value());
    CHECK_THAT(w.error().message,
               Catch::StartsWith("invalid maintenance window \"" + std::string(bad) + "\": "));
    CHECK_THAT(w.error().message, Catch::Contains("\"daily 01:00-05:00\""));
  }
  CHECK_THAT(parse_maintenance_window("Sat 02:00-02:00").error().message,
             Catch::Contains("the window is empty; use 00:00-24:00 for a whole day"));
  CHECK_THAT(parse_maintenance_window("Sun-Funday 02:00-03:00").error().message,
             Catch::Contains("unknown day \"Sun-Funday\""));
}

TEST_CASE("a config maintenance window holds from its start up to but excluding its end") {
  const auto w = windows({"Sat 02:00-04:00"});
  CHECK_FALSE(in_window(w, at(6, 1, 59, 59)));
  CHECK(in_window(w, at(6, 2, 0)));
  CHECK(in_window(w, at(6, 3, 59, 59)));
  CHECK_FALSE(in_window(w, at(6, 4, 0)));
  CHECK_FALSE(in_window(w, at(7, 3, 0)));  // Sunday
  CHECK(in_window(w, at(13, 3, 0)));       // the next Saturday
}

TEST_CASE("a config maintenance window across midnight reaches into the next day") {
  const auto w = windows({"Fri 23:00-02:00"});  // 2024-01-05 is a Friday
  CHECK_FALSE(in_window(w, at(5, 22, 59)));
  CHECK(in_window(w, at(5, 23, 0)));
  CHECK(in_window(w, at(6, 0, 0)));  // Saturday just after midnight
  CHECK(in_window(w, at(6, 1, 59)));
  CHECK_FALSE(in_window(w, at(6, 2, 0)));
  CHECK_FALSE(in_window(w, at(6, 23, 30)));  // Saturday evening is not listed
  CHECK_FALSE(in_window(w, at(5, 1, 0)));    // Friday morning belongs to Thursday's night
}

TEST_CASE("a config maintenance window on weekdays wraps from Sunday to Monday") {
  const auto nights = windows({"Mon-Fri 22:00-06:00"});
  CHECK(in_window(nights, at(8, 23, 0)));         // Monday night
  CHECK(in_window(nights, at(9, 5, 0)));          // Tuesday morning
  CHECK(in_window(nights, at(13, 5, 59)));        // Saturday morning, after Friday night
  CHECK_FALSE(in_window(nights, at(13, 22, 0)));  // Saturday night
  CHECK_FALSE(in_window(nights, at(8, 5, 0)));    // Monday morning: Sunday night is not listed
  const auto sunday = windows({"Sun 23:00-01:00"});
  CHECK(in_window(sunday, at(8, 0, 30)));  // Monday 00:30 after Sunday 23:00
  CHECK_FALSE(in_window(sunday, at(8, 23, 30)));
}

TEST_CASE("a config with no maintenance windows always allows, several windows any of them") {
  CHECK(in_window({}, at(6, 12, 0)));
  const auto w = windows({"Sat 02:00-04:00", "daily 12:00-12:30"});
  CHECK(in_window(w, at(10, 12, 15)));
  CHECK(in_window(w, at(6, 2, 30)));
  CHECK_FALSE(in_window(w, at(10, 2, 30)));
  const auto whole = windows({"daily 00:00-24:00"});
  CHECK(in_window(whole, at(9, 0, 0)));
  CHECK(in_window(whole, at(9, 23, 59, 59)));
}

TEST_CASE("a config maintenance window works before 1970 and on a leap day") {
  const auto w = windows({"Thu 00:00-01:00"});
  CHECK(in_window(w, sys_days{year{1969} / December / 25} + minutes(30)));  // a Thursday
  CHECK(in_window(w, sys_days{year{2024} / February / 29} + minutes(59)));  // a Thursday
}

TEST_CASE("a config loads maintenance windows and points a bad one at its entry") {
  auto r = load_config_string(
      "[policy]\nmaintenance_windows = [\"Sat 02:00-04:00\", \"daily 01:00-05:00\"]\n", "w.toml");
  REQUIRE(r.config.has_value());
  REQUIRE(r.config->policy.maintenance_windows.size() == 2);
  CHECK(r.config->policy.maintenance_windows[1].text == "daily 01:00-05:00");
  r = load_config_string(
      "[policy]\nmaintenance_windows = [\n  \"Sat 02:00-04:00\",\n  \"Sat 2-4\",\n]\n", "w.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK_THAT(r.errors[0], Catch::StartsWith("w.toml:4:3: policy.maintenance_windows[1]: invalid "
                                            "maintenance window \"Sat 2-4\": bad time range"));
}
