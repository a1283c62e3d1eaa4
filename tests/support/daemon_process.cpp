#include "support/daemon_process.h"

#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "harness/process.h"
#include "support/files.h"
#include "support/metrics_text.h"

namespace edd::test {
namespace {

void put_optional(std::ostream& out, const char* key, const std::string& value) {
  if (!value.empty()) out << key << " = \"" << value << "\"\n";
}

DaemonConfig config_for(const EtcdCluster& cluster, int member, const DaemonSettings& s) {
  DaemonConfig c;
  c.endpoint = cluster.client_endpoint(member);
  c.etcd_extra = s.etcd_extra;
  // Each daemon watches the room on disk of its own member's data directory, as on a real host
  // (unless the test names one itself).
  if (s.etcd_extra.find("data_dir") == std::string::npos) c.data_dir = cluster.data_dir(member);
  c.poll_interval = s.poll_interval;
  c.rule = s.rule;
  c.min_interval = s.min_interval;
  c.wait_between_defrags = s.wait_between_defrags;
  c.move_leader = s.move_leader;
  c.policy_extra = s.policy_extra;
  c.ttl = s.ttl;
  c.http_extra = s.http_extra;
  return c;
}

DaemonLaunch launch_for(const EtcdCluster& cluster, int member, const DaemonSettings& s,
                        const std::string& tag) {
  DaemonLaunch l;
  l.dir = cluster.dir() + "/daemon-" + std::to_string(member) + tag;
  l.config = config_for(cluster, member, s);
  l.config.pause_file = l.dir + "/pause";
  return l;
}

}  // namespace

std::string DaemonConfig::toml() const {
  std::ostringstream out;
  out << "[etcd]\nendpoints = [\"" << endpoint << "\"]\nlocal_endpoint = \"" << endpoint
      << "\"\ncluster = true\n";
  put_optional(out, "dial_timeout", dial_timeout);
  put_optional(out, "command_timeout", command_timeout);
  put_optional(out, "cacert", cacert);
  put_optional(out, "cert", cert);
  put_optional(out, "key", key);
  put_optional(out, "data_dir", data_dir);
  out << etcd_extra << "\n\n[policy]\n";
  put_optional(out, "poll_interval", poll_interval);
  put_optional(out, "rule", rule);
  put_optional(out, "min_interval", min_interval);
  put_optional(out, "wait_between_defrags", wait_between_defrags);
  // A boolean, or the string "auto".
  out << "move_leader = " << (move_leader == "auto" ? "\"auto\"" : move_leader) << "\n";
  put_optional(out, "pause_file", pause_file);
  out << policy_extra << "\n\n[lock]\n";
  put_optional(out, "ttl", ttl);
  out << "\n[http]\nlisten = \"" << listen << "\"\n"
      << http_extra << "\n\n[log]\nlevel = \"info\"\n";
  return out.str();
}

DaemonProcess::DaemonProcess(DaemonLaunch launch)
    : prefix_(std::move(launch.command_prefix)),
      config_(launch.dir + "/etcd-defragd.toml"),
      log_(launch.dir + "/daemon.log"),
      pause_(launch.config.pause_file),
      end_signal_(launch.end_signal) {
  std::filesystem::create_directories(launch.dir);
  write_config(launch.config);
  start(launch.ready_timeout);
}

DaemonProcess::DaemonProcess(const EtcdCluster& cluster, int member, const DaemonSettings& s,
                             const std::string& tag)
    : DaemonProcess(launch_for(cluster, member, s, tag)) {}

DaemonProcess::~DaemonProcess() {
  signal(SIGCONT);
  stop(end_signal_);
}

void DaemonProcess::write_config(const DaemonConfig& config) const {
  std::ofstream(config_, std::ios::trunc) << config.toml();
}

// Ready once its log says "ready" and where it listens ("listening on <ipv4>:<port>").
void DaemonProcess::start(std::chrono::seconds ready_timeout) {
  std::vector<std::string> argv = prefix_;
  argv.insert(argv.end(), {EDD_BINARY, "run", "--config", config_});
  pid_ = spawn_process(argv, log_);
  const std::regex listening("listening on ([0-9.]+):([0-9]+)");
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string text = log();
    if (std::regex_search(text, m, listening) && text.find("ready") != std::string::npos) {
      host_ = m[1];
      port_ = std::stoi(m[2]);
      return;
    }
    if (wait_for_exit(pid_, std::chrono::milliseconds(0))) {
      pid_ = 0;
      throw std::runtime_error("daemon exited at start:\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop(SIGKILL);
  throw std::runtime_error("daemon not ready after " + std::to_string(ready_timeout.count()) +
                           " s:\n" + log());
}

int DaemonProcess::stop(int sig, std::chrono::milliseconds grace) {
  if (pid_ == 0) return exit_status_;
  ::kill(pid_, sig);
  int status = 0;
  if (!wait_for_exit(pid_, grace, &status)) {
    ::kill(pid_, SIGKILL);
    wait_for_exit(pid_, std::chrono::seconds(5), &status);
  }
  pid_ = 0;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_status_;
}

void DaemonProcess::signal(int sig) const {
  if (pid_ != 0) ::kill(pid_, sig);  // never kill(0): that is the whole process group
}

bool DaemonProcess::running() const {
  return pid_ != 0 && !wait_for_exit(pid_, std::chrono::milliseconds(0));
}

std::string DaemonProcess::get(const std::string& path) const {
  // -q: no ~/.curlrc; --noproxy: a proxy in the environment must not see loopback requests.
  std::vector<std::string> argv = prefix_;
  argv.insert(argv.end(), {"curl", "-q", "-s", "--noproxy", "*", "--max-time", "5",
                           "http://" + host_ + ":" + std::to_string(port_) + path});
  return run_command(argv, std::chrono::seconds(10)).out;
}

double DaemonProcess::metric(const std::string& series) const {
  return series_value(metrics(), series);
}

std::string DaemonProcess::log() const { return read_file(log_); }

Daemons start_daemons(const EtcdCluster& cluster, const DaemonSettings& s) {
  Daemons d;
  for (int i = 0; i < cluster.size(); ++i) {
    d.push_back(std::make_unique<DaemonProcess>(cluster, i, s));
  }
  return d;
}

int lock_holder(const Daemons& daemons, std::chrono::milliseconds timeout) {
  int holder = -1;
  eventually(timeout, [&] {
    int count = 0;
    for (std::size_t i = 0; i < daemons.size(); ++i) {
      if (daemons[i] && daemons[i]->running() &&
          daemons[i]->metric("etcd_defragd_lock_held") == 1) {
        holder = static_cast<int>(i);
        ++count;
      }
    }
    return count == 1;
  });
  return holder;
}

double series_total(const Daemons& daemons, const std::string& series) {
  double sum = 0;
  for (const auto& d : daemons) {
    if (d && d->running()) sum += std::max(0.0, d->metric(series));
  }
  return sum;
}

double family_total(const Daemons& daemons, const std::string& name,
                    const std::vector<std::string>& fragments) {
  double sum = 0;
  for (const auto& d : daemons) {
    if (d && d->running()) sum += metric_sum(d->metrics(), name, fragments);
  }
  return sum;
}

}  // namespace edd::test
