// Client endpoints as etcdctl accepts them: "host:port", "http://host:port", "https://host:port".
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace edd::etcd {

enum class Scheme { kNone, kHttp, kHttps };

struct Endpoint {
  std::string original;  // as written, for messages and tables
  Scheme scheme = Scheme::kNone;
  std::string host;  // without brackets for IPv6
  int port = 0;

  // What gRPC dials: "host:port" or "[v6]:port".
  std::string grpc_target() const;
  // Where the member serves Prometheus metrics on its client port.
  std::string metrics_url(bool tls) const;
};

Result<Endpoint> parse_endpoint(std::string_view text);

// Splits a comma-separated --endpoints value, trimming blanks; errors name the bad entry.
Result<std::vector<Endpoint>> parse_endpoint_list(std::string_view csv);

// Keeps the first of each endpoint that dials the same host:port (http://a:1 and a:1 are one).
std::vector<std::string> dedupe_endpoints(const std::vector<std::string>& endpoints);

bool is_loopback_host(std::string_view host);

}  // namespace edd::etcd
