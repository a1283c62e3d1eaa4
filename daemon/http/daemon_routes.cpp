#include "http/daemon_routes.h"

#include <utility>

namespace edd::http {

void add_daemon_routes(Router& router, DaemonEndpoints endpoints) {
  if (endpoints.metrics) {
    router.add("GET", "/metrics", [metrics = std::move(endpoints.metrics)](const Request&) {
      return Response{200, kPrometheusTextType, metrics(), {}};
    });
  }
  if (endpoints.health) {
    router.add("GET", "/healthz", [health = std::move(endpoints.health)](const Request&) {
      auto h = health();
      if (h.ok) return Response::text(200, "ok");
      return Response::text(503, h.reason.empty() ? "unhealthy" : std::move(h.reason));
    });
  }
  if (endpoints.status) {
    router.add("GET", "/v1/status", [status = std::move(endpoints.status)](const Request&) {
      return Response::json(200, status());
    });
  }
}

}  // namespace edd::http
