// [usage_scan]: the daemon's usage scan — defaults, every key, and a bad value as one line
// naming the key.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "config/loader.h"

using edd::config::load_config_string;
using namespace std::chrono_literals;

namespace {

std::string usage_scan_error(const std::string& key, const std::string& value) {
  const std::string toml = "[usage_scan]\n" + key + " = " + value + "\n";
  const auto r = load_config_string(toml, "t.toml");
  INFO(toml);
  for (const auto& e : r.errors) UNSCOPED_INFO(e);
  REQUIRE(r.errors.size() == 1);
  CHECK_FALSE(r.config.has_value());
  CHECK(r.errors[0].find('\n') == std::string::npos);
  CHECK(r.errors[0].find("t.toml:2:") == 0);
  CHECK(r.errors[0].find("usage_scan." + key) != std::string::npos);
  return r.errors[0];
}

}  // namespace

TEST_CASE("a config's usage scan is on every 3 hours by default, top 10, at a low rate") {
  const auto r = load_config_string("", "t.toml");
  REQUIRE(r.config.has_value());
  const auto& u = r.config->usage_scan;
  CHECK(u.enabled);
  CHECK(u.interval == 3h);
  CHECK(u.top == 10);
  CHECK(u.page_size == 500);
  CHECK(u.rate == 2000);
}

TEST_CASE("a config sets every usage_scan key") {
  const auto r = load_config_string(
      "[usage_scan]\nenabled = false\ninterval = \"30m\"\ntop = 5\npage_size = 100\nrate = 250.5\n",
      "t.toml");
  for (const auto& e : r.errors) UNSCOPED_INFO(e);
  REQUIRE(r.config.has_value());
  const auto& u = r.config->usage_scan;
  CHECK_FALSE(u.enabled);
  CHECK(u.interval == 30min);
  CHECK(u.top == 5);
  CHECK(u.page_size == 100);
  CHECK(u.rate == 250.5);
}

TEST_CASE("a bad usage_scan value is one line naming the key and why") {
  CHECK(usage_scan_error("enabled", "\"yes\"").find("expected true or false") != std::string::npos);
  CHECK(usage_scan_error("interval", "\"soon\"").find("soon") != std::string::npos);
  usage_scan_error("interval", "\"100ms\"");
  usage_scan_error("interval", "3");
  CHECK(usage_scan_error("top", "0").find("between 1 and 100, got 0") != std::string::npos);
  usage_scan_error("top", "101");
  usage_scan_error("top", "\"ten\"");
  usage_scan_error("page_size", "0");
  usage_scan_error("page_size", "20000");
  CHECK(usage_scan_error("rate", "0").find("keys per second") != std::string::npos);
  usage_scan_error("rate", "-5");
  usage_scan_error("rate", "nan");
  usage_scan_error("unknown_key", "1");
}
