// Time as a seam: the engine and the daemon ask a Clock for "now" and for waits, so tests step
// a manual clock instead of sleeping. SystemClock is thread-safe; fakes need not be.
#pragma once

#include <chrono>
#include <thread>

namespace edd {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() = 0;
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() override { return std::chrono::steady_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

// Advances only when asked (or when someone sleeps on it): for tests.
class ManualClock final : public Clock {
 public:
  time_point now() override { return now_; }
  void sleep_for(std::chrono::milliseconds d) override { now_ += d; }
  void advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  time_point now_{};
};

}  // namespace edd
