#include "cli/status_command.h"

#include <iostream>

#include "cli/certificate_output.h"
#include "cli/status_output.h"
#include "defrag/disk_room.h"
#include "defrag/versions.h"
#include "etcd/cluster_view.h"
#include "etcd/grpc_cluster_client.h"
#include "etcd/metrics_probe.h"

namespace edd::cli {

void StatusCommand::add_to(CLI::App& app) {
  connection.command_timeout = "5s";  // etcdctl's default for short commands
  connection.add_to(app, etcdctl_env);
  app.add_option("-w,--write-out", write_out, "output format: table or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  app.add_option("--min-reclaim", min_reclaim,
                 "show whether this reclaim floor would hold each member's defrag back: a size "
                 "(\"64MiB\") or a share of its quota (\"2%\"); 0: none")
      ->capture_default_str();
}

int StatusCommand::run() const {
  const auto floor = policy::parse_reclaim_floor(min_reclaim);
  if (!floor) {
    std::cerr << "etcd-defragd status: --min-reclaim: " << floor.error().message << "\n";
    return 2;
  }
  auto options = connection.to_client_options();
  if (!options) {
    std::cerr << "etcd-defragd status: " << options.error().message << "\n";
    return 2;
  }
  auto client = etcd::GrpcClusterClient::create(*options);
  if (!client) {
    std::cerr << "etcd-defragd status: " << client.error().message << "\n";
    return 2;
  }
  auto endpoints = etcd::discover_endpoints(**client, options->endpoints, connection.cluster);
  if (!endpoints) {
    std::cerr << "etcd-defragd status: " << endpoints.error().message << "\n";
    return 1;
  }
  etcd::ViewOptions view_options;
  view_options.flag_quota_bytes = connection.storage_quota_bytes;
  view_options.quota_probe = etcd::make_metrics_quota_probe(*options);
  auto view = etcd::fetch_cluster_view(**client, *endpoints, view_options);
  defrag::attach_disk_rooms(
      view, defrag::read_disk_rooms(**client, *endpoints, defrag::kDefaultDiskRoomPrefix));

  const CertificateReport certificates = check_certificates(*options, view);
  if (write_out == "json") {
    std::cout << add_certificates_to_json(render_status_json(view, *floor), certificates);
  } else {
    std::cout << render_status_table(view, *floor) << render_certificate_lines(certificates, view);
  }
  // Under the table for a reader; on stderr with JSON, which carries them per member too.
  for (const auto& line : defrag::version_warnings(view)) {
    (write_out == "json" ? std::cerr : std::cout) << "WARNING: " << line << "\n";
  }
  int failed = 0;
  for (const auto& m : view) {
    if (!m.status) ++failed;
  }
  if (failed > 0) {
    std::cerr << "etcd-defragd status: " << failed << " of " << view.size()
              << " members did not answer\n";
    return 1;
  }
  return 0;
}

}  // namespace edd::cli
