// libFuzzer target for the config loader: any bytes must load or be rejected with one-line
// `name:line:col: key: why` errors, never crash; a loaded config must be internally consistent.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/listen_address.h"
#include "config/loader.h"
#include "config/maintenance_window.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

void require_lines(const std::vector<std::string>& messages) {
  for (const auto& m : messages) {
    require(m.find('\n') == std::string::npos && m.find('\r') == std::string::npos);
    require(m.starts_with("fuzz.toml"));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = edd::config::load_config_string(text, "fuzz.toml");
  require(r.config.has_value() == r.errors.empty());
  require_lines(r.errors);
  require_lines(r.warnings);
  if (r.config) {
    const auto& c = *r.config;
    require(!c.etcd.endpoints.empty());
    require(edd::rule::Rule::parse(c.policy.rule.text()).has_value());
    require(c.policy.disalarm_threshold > 0 && c.policy.disalarm_threshold < 1);
    require(c.lock.ttl.count() >= 10 && c.lock.ttl > c.etcd.command_timeout);
    require(c.policy.poll_interval >= std::chrono::seconds(1));
    require(edd::config::parse_listen_address(c.http.listen.text()).has_value());
    require(c.policy.fallback_quota_bytes() > 0);
    using std::chrono::system_clock;
    for (const auto t :
         {system_clock::time_point{}, system_clock::time_point{} - std::chrono::hours(30),
          system_clock::time_point{} + std::chrono::hours(24 * 365 * 54 + 5)}) {
      (void)edd::config::in_window(c.policy.maintenance_windows, t);
    }
  }
  // The small parsers on raw bytes too.
  if (auto w = edd::config::parse_maintenance_window(text)) {
    require(w->start < std::chrono::hours(24) && w->end <= std::chrono::hours(24));
    require(w->weekdays.any());
    (void)w->contains(std::chrono::system_clock::time_point{});
  }
  if (auto a = edd::config::parse_listen_address(text)) {
    require(edd::config::parse_listen_address(a->text()).has_value());
  }
  return 0;
}
