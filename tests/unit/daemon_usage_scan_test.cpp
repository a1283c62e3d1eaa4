// The daemon's usage scan: when it is due (actor only, no run pending, the interval passed) and
// the sample it makes for the metrics (top N, then "other").
#include <catch2/catch.hpp>
#include <chrono>

#include "service/usage_scan.h"

using edd::config::UsageScanConfig;
using edd::service::UsageScanSchedule;
using namespace std::chrono_literals;

namespace {

class OnePageScanner final : public edd::etcd::KeyScanner {
 public:
  edd::Result<edd::etcd::ScanPage> range_page(const std::string& /*endpoint*/,
                                              const edd::etcd::PageRequest& /*req*/) override {
    edd::etcd::ScanPage page;
    page.revision = 7;
    page.keys = {{"/registry/pods/a/1", 100, 1},
                 {"/registry/pods/a/2", 100, 1},
                 {"/registry/secrets/a/1", 150, 1},
                 {"/registry/events/a/1", 10, 1},
                 {"/other", 5, 1}};
    return page;
  }
};

}  // namespace

TEST_CASE("the usage scan is due for the actor at once, then after each interval") {
  UsageScanConfig cfg;
  cfg.interval = 1h;
  UsageScanSchedule schedule;
  edd::ManualClock clock;
  CHECK(schedule.due(cfg, clock.now(), true, false));
  CHECK_FALSE(schedule.due(cfg, clock.now(), false, false));  // not the actor
  CHECK_FALSE(schedule.due(cfg, clock.now(), true, true));    // a run is pending
  schedule.attempted(clock.now());
  clock.advance(59min);
  CHECK_FALSE(schedule.due(cfg, clock.now(), true, false));
  clock.advance(1min);
  CHECK(schedule.due(cfg, clock.now(), true, false));
  cfg.enabled = false;
  CHECK_FALSE(schedule.due(cfg, clock.now(), true, false));
}

TEST_CASE("the daemon's usage sample holds the top N prefixes, then other") {
  OnePageScanner scanner;
  edd::ManualClock clock;
  UsageScanConfig cfg;
  cfg.top = 2;
  auto sample = edd::service::scan_usage(scanner, clock, cfg, "e", [] { return true; });
  REQUIRE(sample);
  REQUIRE(sample->prefixes.size() == 3);
  CHECK(sample->prefixes[0].prefix == "/registry/pods");
  CHECK(sample->prefixes[0].value_bytes == 200);
  CHECK(sample->prefixes[1].prefix == "/registry/secrets");
  CHECK(sample->prefixes[2].prefix == "other");
  CHECK(sample->prefixes[2].keys == 2);
  CHECK(sample->prefixes[2].value_bytes == 15);
  CHECK(sample->finished == clock.wall_now());
  CHECK(
      edd::service::usage_scan_line(*sample, "e") ==
      "usage scan on e: 5 keys, 365 B of values in 0.00 s; largest prefix /registry/pods (200 B)");
}
