// At most one log line per kind of event per interval: a client that floods the listener with
// connections or wrong tokens must not flood the journal too. The line that is let through says
// how many of its kind were held back since the previous one, so nothing is lost from the count.
// Keys are a small fixed set (the reasons), never client-controlled text: memory stays bounded.
// Not thread-safe: one owner (the event loop) calls it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace edd::http {

class LogRateLimiter {
 public:
  explicit LogRateLimiter(Clock& clock,
                          std::chrono::milliseconds interval = std::chrono::minutes(1));

  // Empty: do not log this event (it is counted as held back). Otherwise log it; the value is
  // how many events of this key were held back since the last line let through.
  std::optional<std::uint64_t> admit(std::string_view key);

 private:
  struct Slot {
    Clock::time_point last_logged;
    std::uint64_t held_back = 0;
  };
  Clock& clock_;
  std::chrono::milliseconds interval_;
  std::map<std::string, Slot, std::less<>> slots_;
};

// " (N more since the last such line)" for N > 0, else "": the suffix of a line let through.
std::string held_back_note(std::uint64_t held_back);

}  // namespace edd::http
