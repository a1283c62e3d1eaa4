// edd-testcluster: a 3-member etcd cluster for the README demo in a directory that is kept.
// Writes DIR/endpoints and DIR/env (and DIR/root-password, mode 0600, for auth), prints
// "cluster ready: <endpoints>", and runs until SIGTERM or SIGINT, then stops the members.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "harness/etcd_cluster.h"

namespace {

using edd::test::EtcdCluster;
using edd::test::Security;

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 || ::fchmod(fd, mode) != 0 ||
      ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    std::string error = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot write " + path + ": " + error);
  }
  ::close(fd);
}

void write_cluster_files(const EtcdCluster& cluster, Security security) {
  const std::string& dir = cluster.dir();
  write_file(dir + "/endpoints", cluster.endpoints_csv() + "\n", 0644);
  std::string metrics;
  for (int i = 0; i < cluster.size(); ++i) metrics += (i > 0 ? "," : "") + cluster.metrics_url(i);
  std::string env = "export ETCDCTL_ENDPOINTS=" + shell_quote(cluster.endpoints_csv()) +
                    "\n"
                    "export EDD_ETCD_METRICS_URLS=" +
                    shell_quote(metrics) + "\n";
  if (security == Security::kTls) {
    env += "export ETCDCTL_CACERT=" + shell_quote(cluster.ca_file()) + "\n";
    env += "export ETCDCTL_CERT=" + shell_quote(cluster.client_cert_file()) + "\n";
    env += "export ETCDCTL_KEY=" + shell_quote(cluster.client_key_file()) + "\n";
  }
  if (security == Security::kAuth) {
    write_file(dir + "/root-password", cluster.root_password() + "\n", 0600);
    // A reference to the file, not the password itself.
    env += "export ETCDCTL_USER=\"root:$(cat " + shell_quote(dir + "/root-password") + ")\"\n";
  }
  write_file(dir + "/env", env, 0644);
}

int run(int argc, char** argv) {
  CLI::App app{"Runs a local 3-member etcd cluster for the etcd-defragd demo."};
  edd::test::ClusterOptions options;
  std::string security = "plain";
  app.add_option("--dir", options.base_dir, "Directory for the members' data, logs and files")
      ->required();
  app.add_option("--quota-bytes", options.quota_backend_bytes,
                 "etcd --quota-backend-bytes (0: etcd's default)")
      ->check(CLI::NonNegativeNumber);
  std::int64_t fragment_bytes = 0;
  app.add_option("--fragment-bytes", fragment_bytes,
                 "write, overwrite and mostly delete about this many bytes before 'ready'")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--security", security, "plain, tls or auth")
      ->check(CLI::IsMember({"plain", "tls", "auth"}));
  CLI11_PARSE(app, argc, argv);
  options.security = security == "tls"    ? Security::kTls
                     : security == "auth" ? Security::kAuth
                                          : Security::kPlain;

  // Blocked before the members start (they reset their mask) and taken with sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    auto cluster = EtcdCluster::start(options);
    write_cluster_files(*cluster, options.security);
    if (fragment_bytes > 0) {
      const auto f = cluster->write_and_fragment(fragment_bytes);
      std::cout << "fragmented: wrote " << f.keys_written << " keys twice, kept " << f.keys_kept
                << ", compacted at revision " << f.compact_revision << std::endl;
    }
    std::cout << "cluster ready: " << cluster->endpoints_csv() << std::endl;
    int signal = 0;
    sigwait(&stop_signals, &signal);
    std::cout << "stopping the cluster (" << strsignal(signal) << ")" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "edd-testcluster: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
