// One `etcd-defragd run` process for integration tests: writes its config next to the cluster,
// listens on an ephemeral loopback port (read back from its log), and is stopped by PID.
#pragma once

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "edd_cli.h"
#include "harness/etcd_cluster.h"
#include "harness/process.h"

namespace edd::test {

struct DaemonSettings {
  std::string poll_interval = "1s";
  std::string rule = "dbSizeFree > 8*1024*1024";
  std::string min_interval = "1h";
  std::string wait_between_defrags = "0s";
  std::string ttl = "10s";
  std::string move_leader = "false";
  std::string http_extra;    // more lines for [http], e.g. webhook_token_file = "..."
  std::string etcd_extra;    // more lines for [etcd], e.g. user and password_file
  std::string policy_extra;  // more lines for [policy]
};

class DaemonProcess {
 public:
  DaemonProcess(const EtcdCluster& cluster, int member, const DaemonSettings& s,
                const std::string& tag = "")
      : dir_(cluster.dir() + "/daemon-" + std::to_string(member) + tag) {
    std::filesystem::create_directories(dir_);
    config_ = dir_ + "/etcd-defragd.toml";
    log_ = dir_ + "/daemon.log";
    pause_ = dir_ + "/pause";
    write_config(cluster, member, s);
    start();
  }
  // SIGTERM, as systemd stops it (SIGCONT first, in case a test froze it): a daemon that exits
  // by itself runs LeakSanitizer's check in a sanitizer build. stop() SIGKILLs it after 30 s.
  ~DaemonProcess() {
    if (pid_ != 0) ::kill(pid_, SIGCONT);
    stop(SIGTERM);
  }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  void start() {
    pid_ = spawn_process({EDD_BINARY, "run", "--config", config_}, log_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      const std::string text = log();
      if (std::regex_search(text, m, listening) && text.find("ready") != std::string::npos) {
        port_ = std::stoi(m[1]);
        return;
      }
      if (wait_for_exit(pid_, std::chrono::milliseconds(0))) {
        pid_ = 0;
        throw std::runtime_error("daemon exited at start:\n" + text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("daemon not ready after 20 s:\n" + log());
  }

  // Sends sig; for SIGTERM/SIGKILL waits for the exit and returns the exit status.
  int stop(int sig) {
    if (pid_ == 0) return exit_status_;
    ::kill(pid_, sig);
    int status = 0;
    if (!wait_for_exit(pid_, std::chrono::seconds(30), &status)) {
      ::kill(pid_, SIGKILL);
      wait_for_exit(pid_, std::chrono::seconds(5), &status);
    }
    pid_ = 0;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_status_;
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  bool running() const { return pid_ != 0 && !wait_for_exit(pid_, std::chrono::milliseconds(0)); }

  std::string get(const std::string& path) const {
    const CommandResult r = run_command(
        {"curl", "-s", "--max-time", "5", "http://127.0.0.1:" + std::to_string(port_) + path},
        std::chrono::seconds(10));
    return r.out;
  }
  // The value of one sample line of /metrics, e.g. `etcd_defragd_lock_held`; -1 if absent.
  double metric(const std::string& sample) const {
    const std::string text = get("/metrics");
    const auto at = text.find("\n" + sample + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + sample.size() + 2));
  }
  std::string log() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  const std::string& config_path() const { return config_; }
  const std::string& pause_file() const { return pause_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }  // 0 once stopped

 private:
  void write_config(const EtcdCluster& cluster, int member, const DaemonSettings& s) {
    std::ofstream out(config_);
    out << "[etcd]\n"
        << "endpoints = [\"" << cluster.client_endpoint(member) << "\"]\n"
        << "local_endpoint = \"" << cluster.client_endpoint(member) << "\"\n"
        << "cluster = true\n"
        << "command_timeout = \"5s\"\n"
        << s.etcd_extra << "\n\n"
        << "[policy]\n"
        << "poll_interval = \"" << s.poll_interval << "\"\n"
        << "rule = \"" << s.rule << "\"\n"
        << "min_interval = \"" << s.min_interval << "\"\n"
        << "wait_between_defrags = \"" << s.wait_between_defrags << "\"\n"
        << "move_leader = " << (s.move_leader == "auto" ? "\"auto\"" : s.move_leader) << "\n"
        << "pause_file = \"" << pause_ << "\"\n"
        << s.policy_extra << "\n\n"
        << "[lock]\n"
        << "ttl = \"" << s.ttl << "\"\n\n"
        << "[http]\n"
        << "listen = \"127.0.0.1:0\"\n"
        << s.http_extra << "\n\n"
        << "[log]\n"
        << "level = \"info\"\n";
  }

  std::string dir_, config_, log_, pause_;
  pid_t pid_ = 0;
  int port_ = 0;
  int exit_status_ = -1;
};

// Polls cond every 100 ms until it holds or timeout passes.
template <class Cond>
bool eventually(std::chrono::milliseconds timeout, Cond&& cond) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

}  // namespace edd::test
