#include "coord_netns_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>

#include <iostream>
#include <stdexcept>
#include <thread>

#include "harness/etcd_version.h"
#include "harness/test_record.h"
#include "support/metrics_text.h"

namespace edd::test::coord {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr auto kCommandTimeout = std::chrono::seconds(60);
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr const char* kBridgeAddress = "10.200.0.254";
constexpr int kDaemonPort = 9479;  // fixed: each namespace has ports of its own

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string make_temp_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/edd-netns-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  return pattern;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string joined;
  for (const auto& part : parts) joined += (joined.empty() ? "" : separator) + part;
  return joined;
}

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
    : members_(members), prefix_("eddcoord" + std::to_string(::getpid())) {
  delete_stale_namespaces();
  dir_ = make_temp_dir();
  try {
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
    std::vector<std::string> initial;
    for (int i = 0; i < members_; ++i) {
      initial.push_back("m" + std::to_string(i) + "=http://" + address(i) + ":2380");
    }
    for (int i = 0; i < members_; ++i) {
      fs::create_directories(member_dir(i));
      std::vector<std::string> argv{"ip",
                                    "netns",
                                    "exec",
                                    namespace_of(i),
                                    etcd_release().etcd(),
                                    "--name=m" + std::to_string(i),
                                    "--data-dir=" + member_dir(i) + "/data",
                                    "--listen-client-urls=" + client_url(i),
                                    "--advertise-client-urls=" + client_url(i),
                                    "--listen-peer-urls=http://" + address(i) + ":2380",
                                    "--initial-advertise-peer-urls=http://" + address(i) + ":2380",
                                    "--initial-cluster=" + join(initial, ","),
                                    "--initial-cluster-token=" + prefix_,
                                    "--initial-cluster-state=new",
                                    "--logger=zap",
                                    "--log-outputs=" + member_dir(i) + "/etcd.log",
                                    "--heartbeat-interval=100",
                                    "--election-timeout=1000"};
      if (quota_backend_bytes > 0) {
        argv.push_back("--quota-backend-bytes=" + std::to_string(quota_backend_bytes));
      }
      // `ip netns exec` enters the namespace and execs etcd: the PID is etcd's, and the
      // harness's PR_SET_PDEATHSIG survives the exec.
      member_pids_.push_back(spawn_process(argv, member_dir(i) + "/stdout.log"));
    }
    const auto deadline = Clock::now() + kStartTimeout;
    for (int i = 0; i < members_; ++i) {
      while (
          etcdctl({"endpoint", "health", "--command-timeout=2s"}, client_endpoint(i)).exit_code !=
          0) {
        if (Clock::now() >= deadline) {
          throw std::runtime_error(
              "netns member m" + std::to_string(i) + " not healthy after 30 s\n" +
              log_tail(member_dir(i) + "/etcd.log") + log_tail(member_dir(i) + "/stdout.log"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  } catch (...) {
    stop_processes_now();
    delete_namespaces();
    throw;
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
  stop_processes(daemon_pids_, kStopGrace);
  daemon_pids_.clear();
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

std::string NetnsCluster::endpoints_csv() const {
  std::vector<std::string> all;
  for (int i = 0; i < members_; ++i) all.push_back(client_endpoint(i));
  return join(all, ",");
}

std::string NetnsCluster::member_dir(int i) const { return dir_ + "/m" + std::to_string(i); }

std::string NetnsCluster::log_tail(const std::string& path) const {
  std::deque<std::string> last;
  for (auto& line : lines_of(read_file(path))) {
    last.push_back(std::move(line));
    if (last.size() > 15) last.pop_front();
  }
  std::string text = "--- last lines of " + path + " ---\n";
  for (const auto& line : last) text += line + "\n";
  return text;
}

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
  std::vector<DefragEvent> events;
  for (int i = 0; i < members_; ++i) {
    for (const auto& line : lines_of(read_file(member_dir(i) + "/etcd.log"))) {
      if (line.find(" defragment\"") == std::string::npos) continue;
      boost::system::error_code ec;
      const json::value entry = json::parse(line, ec);
      if (ec || !entry.is_object()) continue;  // a line being written right now
      const json::value* msg = entry.as_object().if_contains("msg");
      const json::value* ts = entry.as_object().if_contains("ts");
      if (msg == nullptr || ts == nullptr || !msg->is_string() || !ts->is_string()) continue;
      const std::string text(msg->as_string());
      if (text == "starting defragment" || text == "finished defragment") {
        events.push_back({i, text, parse_zap_ts(std::string(ts->as_string()))});
      }
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const DefragEvent& a, const DefragEvent& b) {
    if (a.ts != b.ts) return a.ts < b.ts;
    return a.msg == "finished defragment" && b.msg != "finished defragment";
  });
  return events;
}

std::string NetnsCluster::pause_file(int i) const { return member_dir(i) + "/daemon/pause"; }

std::string NetnsCluster::daemon_log(int i) const {
  return read_file(member_dir(i) + "/daemon/daemon.log");
}

void NetnsCluster::start_daemon(int i, const NetnsDaemonSettings& s) {
  const std::string dir = member_dir(i) + "/daemon";
  fs::create_directories(dir);
  const std::string config = dir + "/etcd-defragd.toml";
  if (s.start_paused) std::ofstream(pause_file(i)) << "paused by the test\n";
  {
    std::ofstream out(config);
    out << "[etcd]\n"
        << "endpoints = [\"" << client_endpoint(i) << "\"]\n"
        << "local_endpoint = \"" << client_endpoint(i) << "\"\n"
        << "cluster = true\n"
        << "dial_timeout = \"2s\"\n"
        << "command_timeout = \"" << s.command_timeout << "\"\n\n"
        << "[policy]\n"
        << "poll_interval = \"" << s.poll_interval << "\"\n"
        << "rule = \"" << s.rule << "\"\n"
        << "min_interval = \"" << s.min_interval << "\"\n"
        << "move_leader = false\n"
        << "pause_file = \"" << pause_file(i) << "\"\n\n"
        << "[lock]\n"
        << "ttl = \"" << s.ttl << "\"\n\n"
        << "[http]\n"
        << "listen = \"" << address(i) << ":" << kDaemonPort << "\"\n\n"
        << "[log]\n"
        << "level = \"info\"\n";
  }
  const std::string log = dir + "/daemon.log";
  const pid_t pid = spawn_process(
      {"ip", "netns", "exec", namespace_of(i), EDD_BINARY, "run", "--config", config}, log);
  daemon_pids_.push_back(pid);
  const auto deadline = Clock::now() + kStartTimeout;
  while (read_file(log).find("ready") == std::string::npos) {
    if (wait_for_exit(pid, std::chrono::milliseconds(0))) {
      std::erase(daemon_pids_, pid);
      throw std::runtime_error("daemon " + std::to_string(i) + " exited at start:\n" +
                               read_file(log));
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error("daemon " + std::to_string(i) + " not ready after 30 s:\n" +
                               read_file(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string NetnsCluster::daemon_metrics(int i) const {
  const CommandResult r = run_command(
      {"ip", "netns", "exec", namespace_of(i), "curl", "-q", "-s", "--noproxy", "*", "--max-time",
       "5", "http://" + address(i) + ":" + std::to_string(kDaemonPort) + "/metrics"},
      std::chrono::seconds(10));
  return r.exit_code == 0 ? r.out : std::string();
}

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
