#include <catch2/catch.hpp>

#include "service/poll_log.h"

using edd::service::Decision;
using edd::service::PollLog;
using edd::service::StepResult;
using Level = PollLog::Level;

namespace {
StepResult step(Decision d, std::string reason = "") {
  StepResult r;
  r.decision = d;
  r.reason = std::move(reason);
  return r;
}
}  // namespace

TEST_CASE("poll log: a decision repeated poll after poll is said once at info, then at debug") {
  PollLog log;
  const auto other = step(Decision::kNotActor, "the lock is held by host-b");
  CHECK(log.level(other) == Level::kInfo);
  CHECK(log.level(other) == Level::kDebug);
  CHECK(log.level(other) == Level::kDebug);
  CHECK(PollLog::line_of(other) == "poll: " + edd::service::decision_name(Decision::kNotActor) +
                                       ": the lock is held by host-b");
  // A new reason is a change.
  CHECK(log.level(step(Decision::kNotActor, "the lock is held by host-c")) == Level::kInfo);
  CHECK(log.level(step(Decision::kPaused, "paused by the kill switch")) == Level::kInfo);
  CHECK(log.level(step(Decision::kPaused, "paused by the kill switch")) == Level::kDebug);
}

TEST_CASE("poll log: runs are always at info, idle polls say nothing and end a repetition") {
  PollLog log;
  CHECK(log.level(step(Decision::kRan, "success")) == Level::kInfo);
  CHECK(log.level(step(Decision::kRan, "success")) == Level::kInfo);
  const auto paused = step(Decision::kPaused, "paused by the kill switch");
  CHECK(log.level(paused) == Level::kInfo);
  CHECK(log.level(step(Decision::kIdle)) == Level::kNone);
  CHECK(log.level(paused) == Level::kInfo);
}
