// Time as a seam: the engine and the daemon ask a Clock for the time and for waits, so tests step
// a manual clock instead of sleeping. Two kinds of time, from one place: monotonic time for
// deadlines and durations, wall time for what is compared across hosts or restarts (cooldowns
// in the last-run record, maintenance windows). SystemClock is thread-safe; fakes need not be.
#pragma once

#include <chrono>
#include <thread>

namespace edd {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using wall_time = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() = 0;
  virtual wall_time wall_now() = 0;
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() override { return std::chrono::steady_clock::now(); }
  wall_time wall_now() override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

// Advances only when asked (or when someone sleeps on it), both kinds of time together: for
// tests. set_wall() moves the wall clock alone, as NTP or another host's skew would.
class ManualClock final : public Clock {
 public:
  time_point now() override { return now_; }
  wall_time wall_now() override { return wall_; }
  void sleep_for(std::chrono::milliseconds d) override { advance(d); }
  void advance(std::chrono::milliseconds d) {
    now_ += d;
    wall_ += d;
  }
  void set_wall(wall_time t) { wall_ = t; }

 private:
  time_point now_{};
  wall_time wall_{std::chrono::hours(24 * 365 * 50)};  // some day in 2019
};

}  // namespace edd
