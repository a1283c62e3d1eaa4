// The daemon's read-only routes: GET /metrics, GET /healthz, GET /v1/status, each answered by a
// provider the app wires. Providers run on the server's loop: quick, and safe to call from that
// thread (DaemonMetrics::serialize is). Registration itself is not thread-safe, like Router.
#pragma once

#include <functional>
#include <string>

#include "http/router.h"

namespace edd::http {

inline constexpr const char* kPrometheusTextType = "text/plain; version=0.0.4; charset=utf-8";

struct Health {
  bool ok = true;
  std::string reason;  // why not, when !ok
};

struct DaemonEndpoints {
  std::function<std::string()> metrics;  // Prometheus text exposition
  std::function<Health()> health;        // 200 "ok" or 503 with the reason
  std::function<std::string()> status;   // a JSON document
};

// Registers the routes whose provider is set.
void add_daemon_routes(Router& router, DaemonEndpoints endpoints);

}  // namespace edd::http
