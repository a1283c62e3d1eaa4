// Reads etcd_server_quota_backend_bytes from a member's /metrics on its client URL: etcd 3.4 and
// 3.5 report no quota in Status, so this is how we learn the real --quota-backend-bytes.
// The probe it returns is thread-safe (each call has its own connection).
#pragma once

#include <optional>
#include <string_view>

#include "etcd/client_options.h"
#include "etcd/cluster_view.h"

namespace edd::etcd {

// A QuotaProbe over HTTP(S) with the same TLS files as the gRPC client, bounded by the
// dial and command timeouts. Each member's answer is kept for 5 minutes (a failure is not).
QuotaProbe make_metrics_quota_probe(const ClientOptions& options);

// The value of an unlabelled sample `name value` in Prometheus text exposition.
std::optional<double> find_metric_value(std::string_view exposition, std::string_view name);

}  // namespace edd::etcd
