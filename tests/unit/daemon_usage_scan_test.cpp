// The daemon's usage scan job: when it runs (actor only, no run pending, the interval passed),
// in slices within a time budget across steps, and the sample it makes (top N, then "other").
#include <catch2/catch.hpp>
#include <chrono>
#include <map>

#include "service/usage_scan.h"

using edd::ErrorCode;
using edd::config::UsageScanConfig;
using edd::service::UsageScanJob;
using edd::service::UsageSliceInputs;
using namespace std::chrono_literals;

namespace {

// Keys in order; each page costs `per_page` on the clock; can fail a page with kCompacted.
class FakeScanner final : public edd::etcd::KeyScanner {
 public:
  explicit FakeScanner(edd::ManualClock& clock) : clock_(clock) {}
  std::map<std::string, std::int64_t> keys = {{"/other", 5},
                                              {"/registry/events/a/1", 10},
                                              {"/registry/pods/a/1", 100},
                                              {"/registry/pods/a/2", 100},
                                              {"/registry/secrets/a/1", 150}};
  int pages = 0;
  bool compact_next = false;

  edd::Result<edd::etcd::ScanPage> range_page(const std::string& /*endpoint*/,
                                              const edd::etcd::PageRequest& req) override {
    clock_.advance(1s);
    ++pages;
    if (std::exchange(compact_next, false)) {
      return edd::make_error(ErrorCode::kCompacted, "required revision has been compacted");
    }
    edd::etcd::ScanPage page;
    page.revision = 7;
    for (auto it = keys.lower_bound(req.key); it != keys.end(); ++it) {
      if (static_cast<std::int64_t>(page.keys.size()) == req.limit) {
        page.more = true;
        break;
      }
      page.keys.push_back({it->first, it->second, 1});
    }
    return page;
  }

 private:
  edd::ManualClock& clock_;
};

UsageSliceInputs actor(std::chrono::milliseconds budget = 1h) {
  UsageSliceInputs in;
  in.actor = true;
  in.budget = budget;
  return in;
}

UsageScanConfig config(std::int64_t page_size) {
  UsageScanConfig cfg;
  cfg.top = 2;
  cfg.page_size = page_size;
  cfg.rate = 1e6;
  cfg.interval = 1h;
  return cfg;
}

}  // namespace

TEST_CASE("the daemon's usage scan gives the top N prefixes, then other") {
  edd::ManualClock clock;
  FakeScanner scanner(clock);
  UsageScanJob job;
  auto sample = job.slice(scanner, clock, config(100), "e", actor());
  REQUIRE(sample);
  REQUIRE(sample->has_value());
  const auto& p = (*sample)->prefixes;
  REQUIRE(p.size() == 3);
  CHECK(p[0].prefix == "/registry/pods");
  CHECK(p[0].value_bytes == 200);
  CHECK(p[1].prefix == "/registry/secrets");
  CHECK(p[2].prefix == "other");
  CHECK(p[2].keys == 2);
  CHECK(p[2].value_bytes == 15);
  CHECK((*sample)->took == 1s);
  CHECK(
      edd::service::usage_scan_line(**sample, "e") ==
      "usage scan on e: 5 keys, 365 B of values in 1.00 s; largest prefix /registry/pods (200 B)");
}

TEST_CASE("only the actor scans, not while a run is pending, and again after the interval") {
  edd::ManualClock clock;
  FakeScanner scanner(clock);
  UsageScanJob job;
  auto in = actor();
  in.actor = false;
  CHECK_FALSE(job.slice(scanner, clock, config(100), "e", in)->has_value());
  in = actor();
  in.run_pending = true;
  CHECK_FALSE(job.slice(scanner, clock, config(100), "e", in)->has_value());
  CHECK(scanner.pages == 0);
  CHECK(job.slice(scanner, clock, config(100), "e", actor())->has_value());
  clock.advance(59min);
  CHECK_FALSE(job.slice(scanner, clock, config(100), "e", actor())->has_value());
  CHECK(scanner.pages == 1);
  clock.advance(1min);
  CHECK(job.slice(scanner, clock, config(100), "e", actor())->has_value());
  auto off = config(100);
  off.enabled = false;
  clock.advance(2h);
  CHECK_FALSE(job.slice(scanner, clock, off, "e", actor())->has_value());
  CHECK(scanner.pages == 2);
}

TEST_CASE("the daemon's usage scan goes on across steps within its time budget") {
  edd::ManualClock clock;
  FakeScanner scanner(clock);
  UsageScanJob job;
  // One key per page, one second per page, two seconds per slice: 2 + 2 + 1 pages... and the
  // last page says there is no more.
  CHECK_FALSE(job.slice(scanner, clock, config(1), "e", actor(2s))->has_value());
  CHECK(scanner.pages == 2);
  CHECK(job.in_progress());
  CHECK_FALSE(job.slice(scanner, clock, config(1), "e", actor(2s))->has_value());
  auto last = job.slice(scanner, clock, config(1), "e", actor(2s));
  REQUIRE(last);
  REQUIRE(last->has_value());
  CHECK(scanner.pages == 5);
  std::int64_t keys = 0;
  for (const auto& p : (*last)->prefixes) keys += p.keys;
  CHECK(keys == 5);
  CHECK((*last)->took == 5s);
  CHECK_FALSE(job.in_progress());
}

TEST_CASE("a usage scan whose revision was compacted starts again at the next step") {
  edd::ManualClock clock;
  FakeScanner scanner(clock);
  UsageScanJob job;
  CHECK_FALSE(job.slice(scanner, clock, config(1), "e", actor(2s))->has_value());
  scanner.compact_next = true;
  auto failed = job.slice(scanner, clock, config(1), "e", actor(2s));
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == ErrorCode::kCompacted);
  CHECK_FALSE(job.in_progress());
  // Not an interval later: at once, from the first key.
  auto again = job.slice(scanner, clock, config(100), "e", actor());
  REQUIRE(again);
  CHECK(again->has_value());
}

TEST_CASE("losing the lock drops a usage scan in progress") {
  edd::ManualClock clock;
  FakeScanner scanner(clock);
  UsageScanJob job;
  CHECK_FALSE(job.slice(scanner, clock, config(1), "e", actor(2s))->has_value());
  CHECK(job.in_progress());
  auto in = actor(2s);
  in.actor = false;
  CHECK_FALSE(job.slice(scanner, clock, config(1), "e", in)->has_value());
  CHECK_FALSE(job.in_progress());
}
