#include "cli/usage_command.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/usage_output.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "etcd/grpc_cluster_client.h"
#include "usage/scan.h"

namespace edd::cli {
namespace {

using std::chrono::milliseconds;

// The progress line on stderr: rewritten in place at most 5 times a second on a terminal; else
// (a log, a pipe) one plain line every 10 s, so a long scan shows life without flooding.
class ProgressLine {
 public:
  explicit ProgressLine(std::string endpoint)
      : endpoint_(std::move(endpoint)), tty_(isatty(STDERR_FILENO) == 1) {}
  void update(const usage::ScanProgress& p) {
    const milliseconds every = tty_ ? milliseconds(200) : milliseconds(10000);
    if (p.elapsed - last_ < every) return;
    last_ = p.elapsed;
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f s", static_cast<double>(p.elapsed.count()) / 1000.0);
    const std::string line = "scanning " + endpoint_ + ": " + std::to_string(p.keys) + " keys, " +
                             format_bytes_si(p.value_bytes) + ", " + secs;
    std::cerr << (tty_ ? "\r\033[K" + line : line + "\n") << std::flush;
    shown_ = true;
  }
  void clear() const {
    if (tty_ && shown_) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  std::string endpoint_;
  bool tty_;
  bool shown_ = false;
  milliseconds last_{0};
};

std::string grouping_name(const usage::Grouping& g) {
  if (g.depth > 0) return "depth " + std::to_string(g.depth);
  return g.by == usage::GroupBy::kNamespace ? "namespace" : "resource";
}

}  // namespace

void UsageCommand::add_to(CLI::App& app) {
  connection.add_to(app, etcdctl_env);
  app.add_option("-w,--write-out", write_out, "output format: table or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  app.add_option("--prefix", prefix, "scan only the keys under this prefix (default: every key)");
  auto* by_opt = app.add_option("--by", by,
                                "group Kubernetes keys by resource (/registry/<resource>) or "
                                "namespace (/registry/<resource>/<namespace>)")
                     ->capture_default_str()
                     ->check(CLI::IsMember({"resource", "namespace"}));
  app.add_option("--depth", depth, "group by the first N path segments instead of --by")
      ->check(CLI::Range(1, 64))
      ->excludes(by_opt);
  app.add_option("--top", top, "show the N largest prefixes and the rest as other (0: all)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("--page-size", page_size, "keys per Range request")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100000}));
  app.add_option("--rate", rate, "keys read per second at most (0: unpaced)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  app.add_flag("--revisions", revisions, "also show each prefix's revisions (the keys' versions)");
  app.description(
      "What fills the database: keys and value bytes by prefix, largest first. Reads one member "
      "(the first of --endpoints) with serializable Range requests at one revision; a progress "
      "line goes to stderr.");
}

int UsageCommand::run() const {
  if (connection.cluster) {
    // Every member holds the same keys: one is read, never all of them (the load, three times).
    std::cerr << "etcd-defragd usage: --cluster: usage reads one member; give its endpoint in "
                 "--endpoints\n";
    return 2;
  }
  auto options = connection.to_client_options();
  if (!options) {
    std::cerr << "etcd-defragd usage: " << options.error().message << "\n";
    return 2;
  }
  auto client = etcd::GrpcClusterClient::create(*options);
  if (!client) {
    std::cerr << "etcd-defragd usage: " << client.error().message << "\n";
    return 2;
  }
  const usage::Grouping grouping{
      by == "namespace" ? usage::GroupBy::kNamespace : usage::GroupBy::kResource, depth};
  usage::UsageAggregator aggregator(grouping);
  const usage::ScanOptions scan{options->endpoints.front(), prefix, page_size, rate};
  ProgressLine progress(scan.endpoint);
  usage::ScanHooks hooks;
  hooks.on_key = [&](const etcd::ScannedKey& k) { aggregator.add(k); };
  hooks.on_page = [&](const usage::ScanProgress& p) { progress.update(p); };
  SystemClock clock;
  auto result = usage::scan_keys(**client, clock, scan, hooks);
  progress.clear();
  if (!result) {
    std::cerr << "etcd-defragd usage: " << result.error().message << "\n";
    return 1;
  }
  UsageReport report{aggregator.summary(static_cast<std::size_t>(top)),
                     scan.endpoint,
                     prefix,
                     grouping_name(grouping),
                     result->revision,
                     result->pages,
                     result->elapsed,
                     revisions};
  std::cout << (write_out == "json" ? render_usage_json(report) : render_usage_table(report));
  return 0;
}

}  // namespace edd::cli
