#include "harness/etcd_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <stdexcept>
#include <thread>

#include "harness/pki.h"
#include "harness/test_record.h"
#include "support/base64.h"
#include "support/files.h"

namespace edd::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kEtcdctlTimeout = std::chrono::seconds(60);
constexpr int kStartAttempts = 3;
constexpr std::size_t kValueBytes = 64 * 1024;
constexpr int kValuesPerRequest = 16;    // 1 MiB per txn, under etcd's 1.5 MiB request limit
constexpr int kDeletesPerRequest = 100;  // under etcd's 128 operations per txn

// Binds all sockets before closing any, so the ports are distinct. Another process may take one
// before etcd binds it: start() retries with new ports.
std::vector<int> pick_free_ports(std::size_t count) {
  std::vector<int> fds, ports;
  for (std::size_t i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      std::string error = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      for (int open_fd : fds) ::close(open_fd);
      throw std::runtime_error("edd::test: cannot bind a free port on 127.0.0.1: " + error);
    }
    fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

std::string random_secret() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  std::uniform_int_distribution<std::size_t> pick(0, sizeof kAlphabet - 2);
  std::string secret(24, ' ');
  for (char& c : secret) c = kAlphabet[pick(device)];
  return secret;
}

std::string trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

// Incompressible but reproducible bytes (splitmix64).
std::string pseudo_random_bytes(std::size_t size, std::uint64_t seed) {
  std::string bytes(size, '\0');
  std::uint64_t state = seed;
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    std::memcpy(bytes.data() + i, &z, std::min<std::size_t>(8, size - i));
  }
  return bytes;
}

std::int64_t json_int64(const json::value& v) {
  // The JSON gateway writes 64-bit integers as strings, etcdctl -w json as numbers.
  if (v.is_string()) return std::stoll(std::string(v.as_string()));
  return v.to_number<std::int64_t>();
}

const char* security_name(Security security) {
  switch (security) {
    case Security::kPlain:
      return "plain";
    case Security::kTls:
      return "tls";
    case Security::kAuth:
      return "auth";
  }
  return "?";
}

}  // namespace

std::unique_ptr<EtcdCluster> EtcdCluster::start(const ClusterOptions& options) {
  // Owned before launching, so a failed start still stops whatever was started.
  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster(options));
  cluster->launch();
  return cluster;
}

EtcdCluster::EtcdCluster(const ClusterOptions& options) : options_(options) {
  if (options_.members < 1) throw std::invalid_argument("edd::test: members must be at least 1");
  if (options_.name.empty()) throw std::invalid_argument("edd::test: empty cluster name");
  if (options_.base_dir.empty()) {
    dir_ = make_temp_dir("edd-cluster");
    remove_dir_ = true;
  } else {
    dir_ = fs::absolute(options_.base_dir).string();
    fs::create_directories(dir_);
  }
  cluster_token_ = options_.name + "-" + std::to_string(::getpid()) + "-" + random_secret();
  if (!options_.member_versions.empty() &&
      options_.member_versions.size() != static_cast<std::size_t>(options_.members)) {
    throw std::invalid_argument("edd::test: member_versions must name one version per member");
  }
  for (int i = 0; i < options_.members; ++i) {
    Member m;
    m.name = options_.name + "-" + std::to_string(i);
    m.version = options_.member_versions.empty()
                    ? options_.etcd_version
                    : options_.member_versions[static_cast<std::size_t>(i)];
    etcd_release(m.version);  // fails here, naming the install script, when it is missing
    members_.push_back(m);
  }
}

const EtcdRelease& EtcdCluster::release(int i) const { return etcd_release(member(i).version); }

const EtcdRelease& EtcdCluster::release() const { return etcd_release(options_.etcd_version); }

void EtcdCluster::restart_member_as(int i, const std::string& version) {
  etcd_release(version);
  stop_member(i);
  members_[static_cast<std::size_t>(i)].version = version;
  start_member(i);
}

EtcdCluster::~EtcdCluster() {
  stop_all();
  if (!remove_dir_) return;
  remember_logs(dir_);  // for the whole suite's secrets check, before the logs are gone
  if (std::getenv("EDD_KEEP_TEST_DIRS") != nullptr) {
    std::cerr << "edd::test: kept the etcd cluster directory " << dir_ << "\n";
    return;
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

void EtcdCluster::launch() {
  for (int i = 0; i < size(); ++i) {
    if (fs::exists(member_dir(i))) {
      throw std::runtime_error("edd::test: " + member_dir(i) +
                               " already exists; remove it or choose another directory");
    }
  }
  if (options_.security == Security::kTls) {
    TestPki pki = generate_test_pki(fs::path(dir_) / "pki", options_.pki_lifetimes);
    ca_file_ = pki.ca_file;
    server_cert_file_ = pki.server_cert_file;
    server_key_file_ = pki.server_key_file;
    client_cert_file_ = pki.client_cert_file;
    client_key_file_ = pki.client_key_file;
  }
  for (int attempt = 1;; ++attempt) {
    std::string bind_error;
    if (try_launch(&bind_error)) break;
    if (attempt == kStartAttempts) {
      throw std::runtime_error("edd::test: no free ports after " + std::to_string(kStartAttempts) +
                               " attempts: " + bind_error);
    }
  }
  if (options_.security == Security::kAuth) enable_auth();
}

// False (after cleaning up) when a member could not bind its port: worth another attempt.
bool EtcdCluster::try_launch(std::string* bind_error) {
  std::vector<int> ports = pick_free_ports(3 * members_.size());
  for (std::size_t i = 0; i < members_.size(); ++i) {
    members_[i].client_port = ports[3 * i];
    members_[i].peer_port = ports[3 * i + 1];
    members_[i].metrics_port = ports[3 * i + 2];
  }
  for (int i = 0; i < size(); ++i) {
    fs::create_directories(member_dir(i));
    members_[static_cast<std::size_t>(i)].pid =
        spawn_process(member_argv(i, "new"), member_dir(i) + "/stdout.log");
  }
  try {
    wait_healthy(kStartTimeout);
    return true;
  } catch (const std::runtime_error& e) {
    bool port_taken = false;
    for (int i = 0; i < size(); ++i) {
      port_taken = port_taken || file_contains(log_path(i), "address already in use") ||
                   file_contains(member_dir(i) + "/stdout.log", "address already in use");
    }
    if (!port_taken) throw;
    *bind_error = e.what();
    stop_all();
    for (int i = 0; i < size(); ++i) fs::remove_all(member_dir(i));
    return false;
  }
}

std::vector<std::string> EtcdCluster::member_argv(int i, const std::string& cluster_state) const {
  const Member& m = member(i);
  std::vector<std::string> initial_cluster;
  for (int k = 0; k < size(); ++k) initial_cluster.push_back(member_name(k) + "=" + peer_url(k));
  MemberFlags flags;
  flags.etcd = etcd_release(m.version).etcd();
  flags.name = m.name;
  flags.data_dir = data_dir(i);
  flags.log_path = log_path(i);
  flags.client_url =
      (options_.security == Security::kTls ? "https://127.0.0.1:" : "http://127.0.0.1:") +
      std::to_string(m.client_port);
  flags.peer_url = peer_url(i);
  flags.initial_cluster = join(initial_cluster, ",");
  flags.cluster_token = cluster_token_;
  flags.cluster_state = cluster_state;
  flags.metrics_url = metrics_url(i);
  flags.quota_backend_bytes = options_.quota_backend_bytes;
  std::vector<std::string> argv = etcd_member_argv(flags);
  argv.insert(argv.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  if (options_.security == Security::kTls) {
    for (const std::string prefix : {"--", "--peer-"}) {
      argv.push_back(prefix + "cert-file=" + server_cert_file_);
      argv.push_back(prefix + "key-file=" + server_key_file_);
      argv.push_back(prefix + "trusted-ca-file=" + ca_file_);
      argv.push_back(prefix + "client-cert-auth");
    }
  }
  return argv;
}

void EtcdCluster::enable_auth() {
  root_password_ = random_secret();
  user_password_ = random_secret();
  remember_secret(root_password_);
  remember_secret(user_password_);
  // Passwords go through stdin (--interactive=false), never on a command line.
  auto with_input = [&](const std::vector<std::string>& args, const std::string& input) {
    CommandResult r = etcdctl(args, "", input);
    if (r.exit_code != 0) {
      throw std::runtime_error("edd::test: etcdctl " + join(args, " ") + " failed: " + r.err);
    }
  };
  with_input({"user", "add", "root", "--interactive=false"}, root_password_ + "\n");
  etcdctl_ok({"role", "add", "root"});
  etcdctl_ok({"user", "grant-role", "root", "root"});
  etcdctl_ok({"role", "add", "app"});
  etcdctl_ok({"role", "grant-permission", "app", "readwrite", "", "--prefix"});
  with_input({"user", "add", user_name(), "--interactive=false"}, user_password_ + "\n");
  etcdctl_ok({"user", "grant-role", user_name(), "app"});
  etcdctl_ok({"auth", "enable"});
  auth_enabled_ = true;
  wait_healthy(kStartTimeout);
}

// One member at a time: on SIGTERM a leader first hands leadership to a connected follower and
// waits up to 7 s for it to take over, which never happens if that follower is stopping too.
// Resume members stopped with SIGSTOP first, so that none is picked and never answers.
void EtcdCluster::stop_all() {
  for (const auto& m : members_) {
    if (m.pid != 0) ::kill(m.pid, SIGCONT);
  }
  for (auto& m : members_) {
    if (m.pid != 0) stop_processes({m.pid}, kStopGrace);
    m.pid = 0;
  }
}

int EtcdCluster::size() const { return static_cast<int>(members_.size()); }

const std::string& EtcdCluster::dir() const { return dir_; }

const EtcdCluster::Member& EtcdCluster::member(int i) const {
  if (i < 0 || i >= size()) {
    throw std::out_of_range("edd::test: no member " + std::to_string(i) + " in a cluster of " +
                            std::to_string(size()));
  }
  return members_[static_cast<std::size_t>(i)];
}

std::vector<std::string> EtcdCluster::client_endpoints() const {
  std::vector<std::string> endpoints;
  for (int i = 0; i < size(); ++i) endpoints.push_back(client_endpoint(i));
  return endpoints;
}

std::string EtcdCluster::endpoints_csv() const { return join(client_endpoints(), ","); }

std::string EtcdCluster::client_endpoint(int i) const {
  return (options_.security == Security::kTls ? "https://127.0.0.1:" : "127.0.0.1:") +
         std::to_string(member(i).client_port);
}

std::string EtcdCluster::peer_url(int i) const {
  return (options_.security == Security::kTls ? "https://127.0.0.1:" : "http://127.0.0.1:") +
         std::to_string(member(i).peer_port);
}

std::string EtcdCluster::metrics_url(int i) const {
  return "http://127.0.0.1:" + std::to_string(member(i).metrics_port);
}

std::string EtcdCluster::member_name(int i) const { return member(i).name; }

pid_t EtcdCluster::pid(int i) const { return member(i).pid; }

std::string EtcdCluster::member_dir(int i) const { return dir_ + "/" + member(i).name; }

std::string EtcdCluster::log_path(int i) const { return member_dir(i) + "/etcd.log"; }

std::string EtcdCluster::data_dir(int i) const { return member_dir(i) + "/data"; }

std::string EtcdCluster::logs_tail(int i) const {
  return log_tail(log_path(i), 15) + log_tail(member_dir(i) + "/stdout.log", 10);
}

void EtcdCluster::stop_member(int i) {
  pid_t p = member(i).pid;
  if (p == 0) return;
  stop_processes({p}, kStopGrace);
  members_[static_cast<std::size_t>(i)].pid = 0;
}

void EtcdCluster::kill_member(int i, int signal) {
  pid_t p = member(i).pid;
  if (p == 0) throw std::logic_error("edd::test: member " + member_name(i) + " is not running");
  if (signal == SIGTERM) return stop_member(i);
  ::kill(p, signal);
  if (signal == SIGKILL) {
    ::waitpid(p, nullptr, 0);
    members_[static_cast<std::size_t>(i)].pid = 0;
  }
}

void EtcdCluster::start_member(int i) {
  if (member(i).pid != 0) {
    throw std::logic_error("edd::test: member " + member_name(i) + " is already running");
  }
  // Same data dir: etcd rejoins from its WAL; the initial-cluster flags are then ignored.
  members_[static_cast<std::size_t>(i)].pid =
      spawn_process(member_argv(i, "existing"), member_dir(i) + "/stdout.log");
}

void EtcdCluster::wait_healthy(std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<std::string> errors(members_.size(), "not checked yet");
  while (true) {
    bool all_healthy = true;
    for (int i = 0; i < size(); ++i) {
      auto& m = members_[static_cast<std::size_t>(i)];
      if (m.pid == 0 || errors[static_cast<std::size_t>(i)].empty()) continue;
      int status = 0;
      if (wait_for_exit(m.pid, std::chrono::milliseconds(0), &status)) {
        pid_t exited = m.pid;
        m.pid = 0;
        throw std::runtime_error("edd::test: etcd member " + m.name + " (pid " +
                                 std::to_string(exited) + ") " + describe_exit(status) + " in " +
                                 dir_ + "\n" + logs_tail(i));
      }
      CommandResult r = etcdctl({"endpoint", "health", "--command-timeout=2s"}, client_endpoint(i));
      errors[static_cast<std::size_t>(i)] = r.exit_code == 0 ? "" : trim(r.err + r.out);
      all_healthy = all_healthy && r.exit_code == 0;
    }
    if (all_healthy) return;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string message = "edd::test: etcd cluster (" +
                        std::string(security_name(options_.security)) + ") in " + dir_ +
                        " not healthy after " + std::to_string(timeout.count()) + " s";
  for (int i = 0; i < size(); ++i) {
    const std::string& error = errors[static_cast<std::size_t>(i)];
    if (!error.empty() && member(i).pid != 0) {
      message += "\nmember " + member_name(i) + ": " + error + "\n" + logs_tail(i);
    }
  }
  throw std::runtime_error(message);
}

CommandResult EtcdCluster::etcdctl(const std::vector<std::string>& args,
                                   const std::string& endpoints,
                                   const std::string& stdin_data) const {
  std::vector<std::string> argv{release().etcdctl(),
                                "--endpoints=" + (endpoints.empty() ? endpoints_csv() : endpoints)};
  if (options_.security == Security::kTls) {
    argv.push_back("--cacert=" + ca_file_);
    argv.push_back("--cert=" + client_cert_file_);
    argv.push_back("--key=" + client_key_file_);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  // No ETCDCTL_API: v3 is etcdctl's default since 3.4, and 3.6+ warns about the variable.
  std::map<std::string, std::string> env;
  // In the environment rather than --user, so the password is not on a command line.
  if (auth_enabled_) env["ETCDCTL_USER"] = "root:" + root_password_;
  return run_command(argv, kEtcdctlTimeout, env, stdin_data);
}

std::string EtcdCluster::etcdctl_ok(const std::vector<std::string>& args,
                                    const std::string& endpoints) const {
  CommandResult r = etcdctl(args, endpoints);
  if (r.exit_code != 0) {
    throw std::runtime_error("edd::test: etcdctl " + join(args, " ") + " failed (exit " +
                             std::to_string(r.exit_code) + "): " + trim(r.err));
  }
  return r.out;
}

std::string EtcdCluster::ca_file() const { return ca_file_; }
std::string EtcdCluster::client_cert_file() const { return client_cert_file_; }
std::string EtcdCluster::client_key_file() const { return client_key_file_; }
std::string EtcdCluster::root_password() const { return root_password_; }
std::string EtcdCluster::user_name() const { return "app-user"; }
std::string EtcdCluster::user_password() const { return user_password_; }

std::vector<EndpointStatus> EtcdCluster::endpoint_status(const std::string& endpoints) const {
  json::value reply = json::parse(etcdctl_ok({"endpoint", "status", "-w", "json"}, endpoints));
  std::vector<EndpointStatus> statuses;
  for (const json::value& entry : reply.as_array()) {
    const json::value& status = entry.at("Status");
    const json::value& header = status.at("header");
    statuses.push_back(EndpointStatus{
        std::string(entry.at("Endpoint").as_string()),
        header.at("member_id").to_number<std::uint64_t>(),
        status.at("leader").to_number<std::uint64_t>(),
        json_int64(header.at("revision")),
        json_int64(status.at("dbSize")),
        json_int64(status.at("dbSizeInUse")),
    });
  }
  return statuses;
}

std::vector<DefragEvent> EtcdCluster::defrag_events() const {
  std::vector<std::string> logs;
  for (int i = 0; i < size(); ++i) logs.push_back(log_path(i));
  return defrag_events_in_logs(logs);
}

std::string EtcdCluster::gateway_post(const std::string& path, const std::string& body,
                                      const std::string& token) const {
  int target = -1;
  for (int i = 0; i < size() && target < 0; ++i) {
    if (member(i).pid != 0) target = i;
  }
  if (target < 0) throw std::logic_error("edd::test: no running member");
  bool tls = options_.security == Security::kTls;
  std::string url = (tls ? "https://127.0.0.1:" : "http://127.0.0.1:") +
                    std::to_string(member(target).client_port) + path;
  // -q: ignore ~/.curlrc; the body (and any password) goes through stdin.
  std::vector<std::string> argv{"curl",
                                "-q",
                                "-sS",
                                "--fail-with-body",
                                "--noproxy",
                                "*",
                                "--max-time",
                                "60",
                                "-H",
                                "Content-Type: application/json",
                                "--data-binary",
                                "@-"};
  if (tls) {
    argv.insert(argv.end(),
                {"--cacert", ca_file_, "--cert", client_cert_file_, "--key", client_key_file_});
  }
  if (!token.empty()) argv.insert(argv.end(), {"-H", "Authorization: " + token});
  argv.push_back(url);
  CommandResult r = run_command(argv, std::chrono::seconds(90), {}, body);
  if (r.exit_code != 0) {
    throw std::runtime_error("edd::test: POST " + url + " failed (curl exit " +
                             std::to_string(r.exit_code) + "): " + trim(r.err) + " " + trim(r.out));
  }
  return r.out;
}

FragmentResult EtcdCluster::write_and_fragment(std::int64_t approx_bytes, const std::string& prefix,
                                               int keep_one_in) {
  if (approx_bytes <= 0 || keep_one_in < 1) {
    throw std::invalid_argument(
        "edd::test: write_and_fragment needs approx_bytes > 0 and "
        "keep_one_in >= 1");
  }
  std::string token;
  if (auth_enabled_) {
    json::object credentials{{"name", "root"}, {"password", root_password_}};
    json::value reply =
        json::parse(gateway_post("/v3/auth/authenticate", json::serialize(credentials), ""));
    token = std::string(reply.at("token").as_string());
  }
  auto key = [&](int i) {
    char digits[16];
    std::snprintf(digits, sizeof digits, "%06d", i);
    return prefix + digits;
  };
  auto revision_of = [](const std::string& reply) {
    return json_int64(json::parse(reply).at("header").at("revision"));
  };

  FragmentResult result;
  result.keys_written =
      static_cast<int>((static_cast<std::uint64_t>(approx_bytes) + kValueBytes - 1) / kValueBytes);
  // Two rounds: the first revisions of every key become garbage once compacted.
  for (std::uint64_t round = 0; round < 2; ++round) {
    for (int first = 0; first < result.keys_written; first += kValuesPerRequest) {
      json::array puts;
      for (int i = first; i < std::min(first + kValuesPerRequest, result.keys_written); ++i) {
        std::string value =
            pseudo_random_bytes(kValueBytes, round << 32 | static_cast<std::uint64_t>(i));
        puts.push_back(json::object{{"requestPut", json::object{{"key", base64_encode(key(i))},
                                                                {"value", base64_encode(value)}}}});
      }
      result.compact_revision = revision_of(gateway_post(
          "/v3/kv/txn", json::serialize(json::object{{"success", std::move(puts)}}), token));
    }
  }
  json::array deletes;
  auto flush_deletes = [&] {
    if (deletes.empty()) return;
    result.compact_revision = revision_of(gateway_post(
        "/v3/kv/txn", json::serialize(json::object{{"success", std::move(deletes)}}), token));
    deletes = json::array();
  };
  for (int i = 0; i < result.keys_written; ++i) {
    if (i % keep_one_in == 0) {
      ++result.keys_kept;
      continue;
    }
    deletes.push_back(
        json::object{{"requestDeleteRange", json::object{{"key", base64_encode(key(i))}}}});
    if (deletes.size() == kDeletesPerRequest) flush_deletes();
  }
  flush_deletes();
  std::vector<std::int64_t> in_use_before(members_.size(), 0);
  for (int i = 0; i < size(); ++i) {
    if (member(i).pid == 0) continue;
    in_use_before[static_cast<std::size_t>(i)] =
        endpoint_status(client_endpoint(i)).at(0).db_size_in_use_bytes;
  }
  json::object compaction{{"revision", std::to_string(result.compact_revision)},
                          {"physical", true}};
  gateway_post("/v3/kv/compaction", json::serialize(compaction), token);
  wait_compacted(result.compact_revision, in_use_before, prefix + "compaction-nudge", token);
  return result;
}

// A physical compaction returns once the member that served it has compacted; the others apply
// it on their own and log "finished scheduled compaction" when done. Even then dbSizeInUse does
// not drop yet: bbolt keeps the freed pages pending until a later write transaction, so write
// (and delete) a key until every member's dbSizeInUse is below its value before the compaction.
void EtcdCluster::wait_compacted(std::int64_t revision,
                                 const std::vector<std::int64_t>& in_use_before,
                                 const std::string& nudge_key, const std::string& token) {
  const std::string needle = "\"compact-revision\":" + std::to_string(revision);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  auto fail = [&](int i, const std::string& what) {
    throw std::runtime_error("edd::test: member " + member_name(i) + " " + what +
                             " 30 s after the compaction at revision " + std::to_string(revision) +
                             "\n" + logs_tail(i));
  };
  for (int i = 0; i < size(); ++i) {
    while (member(i).pid != 0 && !file_contains(log_path(i), needle)) {
      if (Clock::now() >= deadline) fail(i, "has not logged \"finished scheduled compaction\"");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::string key = json::serialize(json::object{{"key", base64_encode(nudge_key)}});
  std::string put = json::serialize(json::object{{"key", base64_encode(nudge_key)}, {"value", ""}});
  for (int i = 0; i < size(); ++i) {
    while (member(i).pid != 0 && endpoint_status(client_endpoint(i)).at(0).db_size_in_use_bytes >=
                                     in_use_before[static_cast<std::size_t>(i)]) {
      if (Clock::now() >= deadline) fail(i, "still reports the dbSizeInUse it had");
      gateway_post("/v3/kv/put", put, token);
      gateway_post("/v3/kv/deleterange", key, token);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

DataDigest EtcdCluster::digest(const std::string& endpoint) const {
  std::vector<std::string> args{"get", "", "--prefix", "-w", "json"};
  if (!endpoint.empty()) args.push_back("--consistency=s");
  return digest_etcdctl_json(etcdctl_ok(args, endpoint));
}

}  // namespace edd::test
