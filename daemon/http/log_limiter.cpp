#include "http/log_limiter.h"

namespace edd::http {

LogRateLimiter::LogRateLimiter(Clock& clock, std::chrono::milliseconds interval)
    : clock_(clock), interval_(interval) {}

std::optional<std::uint64_t> LogRateLimiter::admit(std::string_view key) {
  const auto now = clock_.now();
  auto it = slots_.find(key);
  if (it == slots_.end()) {
    slots_.emplace(std::string(key), Slot{now, 0});
    return 0;
  }
  Slot& slot = it->second;
  if (now - slot.last_logged < interval_) {
    ++slot.held_back;
    return std::nullopt;
  }
  const std::uint64_t held_back = slot.held_back;
  slot = Slot{now, 0};
  return held_back;
}

std::string held_back_note(std::uint64_t held_back) {
  if (held_back == 0) return {};
  return " (" + std::to_string(held_back) + " more since the last such line)";
}

}  // namespace edd::http
