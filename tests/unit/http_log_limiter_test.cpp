#include <catch2/catch.hpp>

#include <chrono>

#include "common/clock.h"
#include "http/log_limiter.h"

using edd::ManualClock;
using edd::http::held_back_note;
using edd::http::LogRateLimiter;
using namespace std::chrono_literals;

TEST_CASE("log limiter lets the first event of a kind through, then one per interval") {
  ManualClock clock;
  LogRateLimiter limiter(clock, 60s);
  CHECK(limiter.admit("evicted_incomplete") == 0);
  for (int i = 0; i < 99; ++i) {
    clock.advance(100ms);
    CHECK_FALSE(limiter.admit("evicted_incomplete").has_value());
  }
  clock.advance(50s);
  CHECK_FALSE(limiter.admit("evicted_incomplete").has_value());  // 59.9 s after the first line
  clock.advance(100ms);
  // The line let through carries every event held back since the previous one.
  CHECK(limiter.admit("evicted_incomplete") == 100);
  CHECK_FALSE(limiter.admit("evicted_incomplete").has_value());
  clock.advance(60s);
  CHECK(limiter.admit("evicted_incomplete") == 1);
  clock.advance(60s);
  CHECK(limiter.admit("evicted_incomplete") == 0);
}

TEST_CASE("log limiter keeps each kind of event apart") {
  ManualClock clock;
  LogRateLimiter limiter(clock, 60s);
  CHECK(limiter.admit("wrong_token") == 0);
  CHECK(limiter.admit("missing_token") == 0);  // not held back by the other reason's line
  CHECK_FALSE(limiter.admit("wrong_token").has_value());
  CHECK_FALSE(limiter.admit("wrong_token").has_value());
  CHECK_FALSE(limiter.admit("missing_token").has_value());
  clock.advance(60s);
  CHECK(limiter.admit("wrong_token") == 2);
  CHECK(limiter.admit("missing_token") == 1);
}

TEST_CASE("log limiter's note names the held-back count, and nothing when there is none") {
  CHECK(held_back_note(0).empty());
  CHECK(held_back_note(41) == " (41 more since the last such line)");
}
