#include "config/listen_address.h"

#include <charconv>

namespace edd::config {
namespace {

Error bad(std::string_view text, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "invalid listen address \"" + std::string(text) + "\": " + std::string(why) +
                        " (expected host:port such as 127.0.0.1:9479 or [::1]:9479)");
}

bool is_ipv6_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

bool is_host_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
         c == '-';
}

}  // namespace

std::string ListenAddress::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool ListenAddress::is_loopback() const {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out;
  std::string_view port_text;
  if (text.empty()) return bad(text, "empty");
  if (text.find("://") != std::string_view::npos) return bad(text, "a scheme is not allowed");
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad(text, "unbalanced '['");
    const std::string_view host = text.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos) return bad(text, "not an IPv6 address in []");
    for (const char c : host) {
      if (!is_ipv6_char(c)) return bad(text, "not an IPv6 address in []");
    }
    out.host = std::string(host);
    const std::string_view after = text.substr(close + 1);
    if (!after.starts_with(":")) return bad(text, "missing port");
    port_text = after.substr(1);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad(text, "missing port");
    const std::string_view host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos)
      return bad(text, "IPv6 addresses need [brackets]");
    if (host.empty()) {
      return bad(text, "missing host; use 0.0.0.0 or [::] to listen on every interface");
    }
    for (const char c : host) {
      if (!is_host_char(c)) return bad(text, "bad character in host");
    }
    out.host = std::string(host);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const char* end = port_text.data() + port_text.size();
  const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end || port > 65535) {
    return bad(text, "bad port");
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

}  // namespace edd::config
