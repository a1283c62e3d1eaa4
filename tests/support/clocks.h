// Time in tests on real processes: waiting until something a daemon or etcd shows holds, and
// the wall clock that etcd's and the daemon's log timestamps are written in, so that a moment
// the test saw can be placed among the lines they logged.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <thread>

namespace edd::test {

// Polls cond every `every` until it holds or timeout passes, then asks once more: a condition
// that turned true during the last sleep still counts.
template <class Cond>
bool eventually(std::chrono::milliseconds timeout, Cond&& cond,
                std::chrono::milliseconds every = std::chrono::milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(every);
  }
  return cond();
}

// Seconds since the epoch on the system clock: the scale of etcd's zap log timestamps and of
// the daemon's text log.
double wall_now_s();

// The time of one line of the daemon's text log ("2025-06-01T10:00:00.123 info ...", UTC) in
// seconds since the epoch; nothing when the line does not start with a timestamp.
std::optional<double> daemon_log_time(const std::string& line);

}  // namespace edd::test
