#include "etcd/endpoint.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace edd::etcd {
namespace {

Error bad(std::string_view text, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "invalid endpoint \"" + std::string(text) + "\": " + std::string(why) +
                        " (expected host:port, http://host:port or https://host:port)");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string Endpoint::grpc_target() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Endpoint::metrics_url(bool tls) const {
  return std::string(tls ? "https://" : "http://") + grpc_target() + "/metrics";
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint ep;
  ep.original = std::string(text);
  std::string_view rest = trim(text);
  if (rest.empty()) return bad(text, "empty");
  if (rest.starts_with("http://")) {
    ep.scheme = Scheme::kHttp;
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    ep.scheme = Scheme::kHttps;
    rest.remove_prefix(8);
  } else if (rest.find("://") != std::string_view::npos) {
    return bad(text, "unsupported scheme");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return bad(text, "a path is not allowed");

  std::string_view port_text;
  if (rest.starts_with("[")) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad(text, "unbalanced '['");
    ep.host = std::string(rest.substr(1, close - 1));
    const std::string_view after = rest.substr(close + 1);
    if (!after.starts_with(":")) return bad(text, "missing port");
    port_text = after.substr(1);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad(text, "missing port");
    ep.host = std::string(rest.substr(0, colon));
    if (ep.host.find(':') != std::string::npos) return bad(text, "IPv6 hosts need [brackets]");
    port_text = rest.substr(colon + 1);
  }
  if (ep.host.empty()) return bad(text, "missing host");
  const auto* end = port_text.data() + port_text.size();
  const auto [ptr, ec] = std::from_chars(port_text.data(), end, ep.port);
  if (port_text.empty() || ec != std::errc() || ptr != end || ep.port <= 0 || ep.port > 65535) {
    return bad(text, "bad port");
  }
  return ep;
}

Result<std::vector<Endpoint>> parse_endpoint_list(std::string_view csv) {
  std::vector<Endpoint> out;
  while (true) {
    const auto comma = csv.find(',');
    const std::string_view item = trim(csv.substr(0, comma));
    if (!item.empty()) {
      auto ep = parse_endpoint(item);
      if (!ep) return ep.error();
      out.push_back(std::move(*ep));
    }
    if (comma == std::string_view::npos) break;
    csv.remove_prefix(comma + 1);
  }
  if (out.empty()) return make_error(ErrorCode::kInvalidArgument, "no endpoints given");
  return out;
}

std::vector<std::string> dedupe_endpoints(const std::vector<std::string>& endpoints) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& e : endpoints) {
    auto parsed = parse_endpoint(e);
    const std::string key = parsed ? parsed->grpc_target() : e;
    if (seen.insert(key).second) out.push_back(e);
  }
  return out;
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace edd::etcd
