#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "usage/scan.h"

using edd::ErrorCode;
using edd::etcd::PageRequest;
using edd::etcd::ScanPage;

namespace {

// A member holding sorted keys at one revision; records every request.
class FakeScanner final : public edd::etcd::KeyScanner {
 public:
  std::map<std::string, std::int64_t> keys;  // key -> value size
  std::int64_t revision = 42;
  std::vector<PageRequest> requests;
  int fail_at_page = -1;

  edd::Result<ScanPage> range_page(const std::string& /*endpoint*/,
                                   const PageRequest& req) override {
    requests.push_back(req);
    if (static_cast<int>(requests.size()) - 1 == fail_at_page) {
      return edd::make_error(ErrorCode::kCompacted, "required revision has been compacted");
    }
    ScanPage page;
    page.revision = revision;
    const bool all = req.range_end == std::string(1, '\0');
    for (auto it = keys.lower_bound(req.key); it != keys.end(); ++it) {
      if (!all && it->first >= req.range_end) break;
      if (static_cast<std::int64_t>(page.keys.size()) == req.limit) {
        page.more = true;
        break;
      }
      page.keys.push_back({it->first, it->second, 1});
    }
    return page;
  }
};

}  // namespace

TEST_CASE("the usage scan reads every key once, page by page, at the first page's revision",
          "[usage]") {
  FakeScanner fake;
  for (int i = 0; i < 25; ++i) fake.keys["/k/" + std::to_string(100 + i)] = i;
  edd::ManualClock clock;
  std::vector<std::string> seen;
  edd::usage::ScanOptions options{"127.0.0.1:2379", "", 10, 0};
  auto result = edd::usage::scan_keys(
      fake, clock, options, {[&](const edd::etcd::ScannedKey& k) { seen.push_back(k.key); }});
  REQUIRE(result);
  CHECK(result->keys == 25);
  CHECK(result->pages == 3);
  CHECK(result->revision == 42);
  CHECK(result->value_bytes == 300);
  CHECK(seen.size() == 25);
  CHECK(seen.front() == "/k/100");
  CHECK(seen.back() == "/k/124");
  REQUIRE(fake.requests.size() == 3);
  CHECK(fake.requests[0].key == std::string(1, '\0'));
  CHECK(fake.requests[0].revision == 0);
  CHECK(fake.requests[1].key == std::string("/k/109") + '\0');
  CHECK(fake.requests[1].revision == 42);
  CHECK(fake.requests[2].revision == 42);
}

TEST_CASE("the usage scan stays under its prefix", "[usage]") {
  FakeScanner fake;
  fake.keys = {{"/a/1", 1}, {"/b/1", 2}, {"/b/2", 3}, {"/c/1", 4}};
  edd::ManualClock clock;
  std::int64_t bytes = 0;
  auto result =
      edd::usage::scan_keys(fake, clock, {"e", "/b/", 1, 0},
                            {[&](const edd::etcd::ScannedKey& k) { bytes += k.value_bytes; }});
  REQUIRE(result);
  CHECK(result->keys == 2);
  CHECK(bytes == 5);
  CHECK(fake.requests[0].key == "/b/");
  CHECK(fake.requests[0].range_end == "/b0");
}

TEST_CASE("the usage scan is paced to its rate of keys per second", "[usage]") {
  FakeScanner fake;
  for (int i = 0; i < 100; ++i) fake.keys["/k/" + std::to_string(1000 + i)] = 1;
  edd::ManualClock clock;
  auto result = edd::usage::scan_keys(fake, clock, {"e", "", 10, 20.0}, {});
  REQUIRE(result);
  CHECK(result->keys == 100);
  // 90 keys are read after waits (the last page needs none): 90 / 20 per second = 4.5 s.
  CHECK(result->elapsed >= std::chrono::milliseconds(4500));
  CHECK(result->elapsed < std::chrono::milliseconds(4600));
}

TEST_CASE("a usage scan whose revision was compacted fails with kCompacted", "[usage]") {
  FakeScanner fake;
  for (int i = 0; i < 30; ++i) fake.keys["/k/" + std::to_string(100 + i)] = 1;
  fake.fail_at_page = 1;
  edd::ManualClock clock;
  auto result = edd::usage::scan_keys(fake, clock, {"e", "", 10, 0}, {});
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ErrorCode::kCompacted);
}

TEST_CASE("a usage scan stops before the next page when asked to", "[usage]") {
  FakeScanner fake;
  for (int i = 0; i < 30; ++i) fake.keys["/k/" + std::to_string(100 + i)] = 1;
  edd::ManualClock clock;
  int pages = 0;
  edd::usage::ScanHooks hooks;
  hooks.on_page = [&](const edd::usage::ScanProgress&) { ++pages; };
  hooks.keep_going = [&] { return pages < 2; };
  auto result = edd::usage::scan_keys(fake, clock, {"e", "", 10, 0}, hooks);
  REQUIRE_FALSE(result);
  CHECK(fake.requests.size() == 2);
}

TEST_CASE("the usage scan halves its pages after a page of large values, and grows them back",
          "[usage]") {
  edd::usage::ScanOptions o{"e", "", 1000, 0};
  o.max_page_bytes = 16 << 20;
  CHECK(edd::usage::next_page_limit(1000, 20 << 20, o) == 500);
  CHECK(edd::usage::next_page_limit(1, 40 << 20, o) == 1);
  CHECK(edd::usage::next_page_limit(500, 8 << 20, o) == 500);
  CHECK(edd::usage::next_page_limit(500, 1 << 20, o) == 1000);
  CHECK(edd::usage::next_page_limit(1000, 0, o) == 1000);

  FakeScanner fake;
  for (int i = 0; i < 20; ++i) fake.keys["/k/" + std::to_string(100 + i)] = 1000;
  edd::ManualClock clock;
  o.page_size = 8;
  o.max_page_bytes = 2500;  // 3 values: the first page of 8 is too big
  auto result = edd::usage::scan_keys(fake, clock, o, {});
  REQUIRE(result);
  CHECK(result->keys == 20);
  REQUIRE(fake.requests.size() >= 3);
  CHECK(fake.requests[0].limit == 8);
  CHECK(fake.requests[1].limit == 4);
  CHECK(fake.requests[2].limit == 2);
}
