#include "coord_netns_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <iostream>
#include <stdexcept>
#include <thread>

#include "harness/etcd_member.h"
#include "harness/etcd_version.h"
#include "harness/test_record.h"
#include "support/files.h"
#include "support/metrics_text.h"

namespace edd::test::coord {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kCommandTimeout = std::chrono::seconds(60);
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr const char* kBridgeAddress = "10.200.0.254";
constexpr int kDaemonPort = 9479;  // fixed: each namespace has ports of its own

// Namespaces left by an earlier run of this test that was killed before its destructor ran
// (their creator's PID is gone): ours by name, so deleting them touches nothing else.
void delete_stale_namespaces() {
  const CommandResult r = run_command({"ip", "netns", "list"}, std::chrono::seconds(10));
  for (const auto& line : lines_of(r.out)) {
    const std::string name = line.substr(0, line.find(' '));
    if (!name.starts_with("eddcoord")) continue;
    const std::string pid = name.substr(8, name.find('-') - 8);
    if (pid.empty() || fs::exists("/proc/" + pid)) continue;
    run_command({"ip", "netns", "del", name}, std::chrono::seconds(10));
  }
}

}  // namespace

std::string NetnsCluster::unsupported_reason() {
  if (::geteuid() != 0) return "not root";
  const std::string probe = "eddcoord" + std::to_string(::getpid()) + "-probe";
  const CommandResult add = run_command({"ip", "netns", "add", probe}, std::chrono::seconds(10));
  if (add.exit_code != 0) return "`ip netns add` failed: " + add.err;
  const CommandResult bridge = run_command(
      {"ip", "-n", probe, "link", "add", "br0", "type", "bridge"}, std::chrono::seconds(10));
  const CommandResult veth =
      run_command({"ip", "-n", probe, "link", "add", "a0", "type", "veth", "peer", "name", "b0"},
                  std::chrono::seconds(10));
  run_command({"ip", "netns", "del", probe}, std::chrono::seconds(10));
  if (bridge.exit_code != 0) return "no bridge devices: " + bridge.err;
  if (veth.exit_code != 0) return "no veth devices: " + veth.err;
  return {};
}

NetnsCluster::NetnsCluster(int members, std::int64_t quota_backend_bytes)
    : members_(members),
      prefix_("eddcoord" + std::to_string(::getpid())),
      daemons_(static_cast<std::size_t>(members)) {
  delete_stale_namespaces();
  dir_ = make_temp_dir("edd-netns");
  try {
    make_network();
    start_members(quota_backend_bytes);
    wait_members_healthy();
  } catch (...) {
    stop_processes_now();
    delete_namespaces();
    throw;
  }
}

// The bridge's namespace, then one namespace per member with a veth pair onto the bridge.
void NetnsCluster::make_network() {
  const std::string br = prefix_ + "-br";
  ip({"netns", "add", br});
  namespaces_.push_back(br);
  ip({"-n", br, "link", "set", "lo", "up"});
  ip({"-n", br, "link", "add", "br0", "type", "bridge"});
  ip({"-n", br, "addr", "add", std::string(kBridgeAddress) + "/24", "dev", "br0"});
  ip({"-n", br, "link", "set", "br0", "up"});
  for (int i = 0; i < members_; ++i) {
    const std::string ns = namespace_of(i);
    const std::string port = "v" + std::to_string(i);
    ip({"netns", "add", ns});
    namespaces_.push_back(ns);
    ip({"-n", ns, "link", "set", "lo", "up"});
    // Created inside the member's namespace with its peer moved straight into the bridge's:
    // neither end ever exists in the host's namespace.
    ip({"-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", br});
    ip({"-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0"});
    ip({"-n", ns, "link", "set", "eth0", "up"});
    ip({"-n", br, "link", "set", port, "master", "br0"});
    ip({"-n", br, "link", "set", port, "up"});
  }
}

// The harness's member command line, on the member's own address, run inside its namespace.
void NetnsCluster::start_members(std::int64_t quota_backend_bytes) {
  std::vector<std::string> initial;
  for (int i = 0; i < members_; ++i) initial.push_back("m" + std::to_string(i) + "=" + peer_url(i));
  for (int i = 0; i < members_; ++i) {
    fs::create_directories(member_dir(i));
    MemberFlags flags;
    flags.etcd = etcd_release().etcd();
    flags.name = "m" + std::to_string(i);
    flags.data_dir = member_dir(i) + "/data";
    flags.log_path = member_dir(i) + "/etcd.log";
    flags.client_url = client_url(i);
    flags.peer_url = peer_url(i);
    flags.initial_cluster = join(initial, ",");
    flags.cluster_token = prefix_;
    flags.cluster_state = "new";
    flags.quota_backend_bytes = quota_backend_bytes;
    // `ip netns exec` enters the namespace and execs etcd: the PID is etcd's, and the
    // harness's PR_SET_PDEATHSIG survives the exec.
    std::vector<std::string> argv{"ip", "netns", "exec", namespace_of(i)};
    const auto etcd = etcd_member_argv(flags);
    argv.insert(argv.end(), etcd.begin(), etcd.end());
    member_pids_.push_back(spawn_process(argv, member_dir(i) + "/stdout.log"));
  }
}

void NetnsCluster::wait_members_healthy() const {
  const auto deadline = Clock::now() + kStartTimeout;
  for (int i = 0; i < members_; ++i) {
    while (etcdctl({"endpoint", "health", "--command-timeout=2s"}, client_endpoint(i)).exit_code !=
           0) {
      if (Clock::now() >= deadline) {
        throw std::runtime_error(
            "netns member m" + std::to_string(i) + " not healthy after 30 s\n" +
            log_tail(member_dir(i) + "/etcd.log") + log_tail(member_dir(i) + "/stdout.log"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

NetnsCluster::~NetnsCluster() {
  stop_processes_now();
  delete_namespaces();
  if (std::getenv("EDD_KEEP_TEST_DIRS") != nullptr) {
    std::cerr << "edd::test: kept the netns cluster directory " << dir_ << "\n";
    return;
  }
  std::error_code ignored;
  remember_logs(dir_);  // for the whole suite's secrets check
  fs::remove_all(dir_, ignored);
}

void NetnsCluster::stop_processes_now() {
  // The daemons first (they release their lock while etcd still answers), then the members one
  // at a time: a stopping leader waits for a follower to take over.
  for (auto& d : daemons_) {
    if (!d) continue;
    d->signal(SIGCONT);  // in case a test froze it
    d->stop(SIGTERM, kStopGrace);
  }
  for (pid_t pid : member_pids_) stop_processes({pid}, kStopGrace);
  member_pids_.clear();
}

void NetnsCluster::delete_namespaces() {
  // Deleting a namespace destroys its end of each veth, and the peer with it.
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) {
    const CommandResult r = run_command({"ip", "netns", "del", *it}, std::chrono::seconds(10));
    if (r.exit_code != 0) std::cerr << "edd::test: ip netns del " << *it << ": " << r.err;
  }
  namespaces_.clear();
}

void NetnsCluster::ip(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = run_command(argv, std::chrono::seconds(10));
  if (r.exit_code != 0) {
    throw std::runtime_error(join(argv, " ") + " failed (exit " + std::to_string(r.exit_code) +
                             "): " + r.err);
  }
}

std::string NetnsCluster::namespace_of(int i) const { return prefix_ + "-m" + std::to_string(i); }

std::string NetnsCluster::address(int i) const { return "10.200.0." + std::to_string(i + 1); }

std::string NetnsCluster::client_endpoint(int i) const { return address(i) + ":2379"; }

std::string NetnsCluster::client_url(int i) const { return "http://" + client_endpoint(i); }

std::string NetnsCluster::peer_url(int i) const { return "http://" + address(i) + ":2380"; }

std::string NetnsCluster::endpoints_csv() const {
  std::vector<std::string> all;
  for (int i = 0; i < members_; ++i) all.push_back(client_endpoint(i));
  return join(all, ",");
}

std::string NetnsCluster::member_dir(int i) const { return dir_ + "/m" + std::to_string(i); }

CommandResult NetnsCluster::etcdctl(const std::vector<std::string>& args,
                                    const std::string& endpoints,
                                    const std::string& stdin_data) const {
  std::vector<std::string> argv{"ip",
                                "netns",
                                "exec",
                                prefix_ + "-br",
                                etcd_release().etcdctl(),
                                "--endpoints=" + (endpoints.empty() ? endpoints_csv() : endpoints)};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, kCommandTimeout, {}, stdin_data);
}

Etcdctl NetnsCluster::etcdctl_fn() const {
  return [this](const std::vector<std::string>& args, const std::string& endpoints) {
    return etcdctl(args, endpoints);
  };
}

std::vector<DefragEvent> NetnsCluster::defrag_events() const {
  std::vector<std::string> logs;
  for (int i = 0; i < members_; ++i) logs.push_back(member_dir(i) + "/etcd.log");
  return defrag_events_in_logs(logs);
}

std::string NetnsCluster::pause_file(int i) const { return member_dir(i) + "/daemon/pause"; }

std::string NetnsCluster::daemon_log(int i) const { return daemon(i).log(); }

// Inside member i's namespace, listening on the member's address; stopped before the members.
void NetnsCluster::start_daemon(int i, const NetnsDaemonSettings& s) {
  DaemonLaunch launch;
  launch.dir = member_dir(i) + "/daemon";
  launch.command_prefix = {"ip", "netns", "exec", namespace_of(i)};
  launch.ready_timeout = kStartTimeout;
  DaemonConfig& c = launch.config;
  c.endpoint = client_endpoint(i);
  c.dial_timeout = "2s";
  c.rule = s.rule;
  c.pause_file = pause_file(i);
  c.listen = address(i) + ":" + std::to_string(kDaemonPort);
  fs::create_directories(launch.dir);
  if (s.start_paused) std::ofstream(pause_file(i)) << "paused by the test\n";
  daemons_.at(static_cast<std::size_t>(i)) = std::make_unique<DaemonProcess>(launch);
}

const DaemonProcess& NetnsCluster::daemon(int i) const {
  const auto& d = daemons_.at(static_cast<std::size_t>(i));
  if (!d) throw std::logic_error("no daemon started for netns member " + std::to_string(i));
  return *d;
}

std::string NetnsCluster::daemon_metrics(int i) const { return daemon(i).metrics(); }

double NetnsCluster::lock_held(int i) const {
  return series_value(daemon_metrics(i), "etcd_defragd_lock_held");
}

void NetnsCluster::partition(int i) {
  ip({"-n", prefix_ + "-br", "link", "set", "v" + std::to_string(i), "down"});
}

void NetnsCluster::heal(int i) {
  ip({"-n", prefix_ + "-br", "link", "set", "v" + std::to_string(i), "up"});
}

}  // namespace edd::test::coord
