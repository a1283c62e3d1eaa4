#include <catch2/catch.hpp>

#include "common/duration.h"

using namespace std::chrono_literals;
using edd::format_go_duration;
using edd::parse_go_duration;

TEST_CASE("Go durations parse as etcd-defrag users write them", "[duration]") {
  CHECK(*parse_go_duration("500ms") == 500ms);
  CHECK(*parse_go_duration("2s") == 2s);
  CHECK(*parse_go_duration("1m30s") == 90s);
  CHECK(*parse_go_duration("1.5h") == 90min);
  CHECK(*parse_go_duration("0") == 0s);
  CHECK(*parse_go_duration("0s") == 0s);
  CHECK(*parse_go_duration("-2s") == -2s);
  CHECK(*parse_go_duration("10us") == 10us);
  CHECK(*parse_go_duration("10\xC2\xB5s") == 10us);
  CHECK(*parse_go_duration("3ns") == 3ns);
}

TEST_CASE("a bad duration is an error naming the text", "[duration]") {
  for (const char* bad : {"", "5", "s", "1x", "1.2.3s", "ms", "--1s", "1s2"}) {
    auto r = parse_go_duration(bad);
    INFO(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == edd::ErrorCode::kInvalidArgument);
    CHECK_THAT(r.error().message, Catch::Contains(std::string("\"") + bad + "\""));
  }
}

TEST_CASE("durations print like Go's time.Duration", "[duration]") {
  CHECK(format_go_duration(0s) == "0s");
  CHECK(format_go_duration(1500ms) == "1.5s");
  CHECK(format_go_duration(90s) == "1m30s");
  CHECK(format_go_duration(2h) == "2h0m0s");
  CHECK(format_go_duration(250ms) == "250ms");
  CHECK(format_go_duration(3006343ns) == "3.006343ms");
  CHECK(format_go_duration(12us) == "12\xC2\xB5s");
  CHECK(format_go_duration(-2s) == "-2s");
}
