// libFuzzer: arbitrary bytes as an Alertmanager webhook body. The parser must never crash, and
// an accepted payload must satisfy what the handler relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/alertmanager_payload.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto p = edd::http::parse_alertmanager_payload(body);
  if (p) {
    if (p->version != "4") std::abort();
    for (const auto& a : p->alerts)
      (void)edd::http::alert_matches(a, {{"remediation", "etcd-defrag"}});
  } else if (p.error().message.find('\n') != std::string::npos) {
    std::abort();  // errors are one line
  }
  return 0;
}
