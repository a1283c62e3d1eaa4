// `etcd-defragd run` processes for the cluster tests: a config written from a few settings,
// started and waited for until it logs "ready", asked over HTTP, and stopped by PID. One class
// for the plain cluster's daemons, the fault tests' (TLS files, short deadlines, config rewritten
// for SIGHUP) and the network-namespace cluster's (started and asked through `ip netns exec`).
// Not thread-safe: one test thread uses a daemon.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/etcd_cluster.h"
#include "support/clocks.h"

namespace edd::test {

// Every key of the daemon's config a test sets. An empty optional field is left out, so the
// daemon's own default applies.
struct DaemonConfig {
  std::string endpoint;           // [etcd] the daemon's own member: the seed and its local_endpoint
  std::string cacert, cert, key;  // optional TLS files
  std::string dial_timeout;       // optional
  std::string command_timeout = "5s";
  std::string etcd_extra;  // more lines for [etcd], e.g. user and password_file
  std::string data_dir;    // optional: [etcd] data_dir, the member's data directory
  std::string poll_interval = "1s";
  std::string rule = "dbSizeFree > 8*1024*1024";
  std::string min_interval = "1h";
  std::string wait_between_defrags;  // optional
  std::string move_leader = "false";
  std::string pause_file;    // optional
  std::string policy_extra;  // more lines for [policy]
  std::string ttl = "10s";
  std::string listen = "127.0.0.1:0";
  std::string http_extra;  // more lines for [http], e.g. webhook_token_file = "..."

  std::string toml() const;
};

// What the plain cluster's daemons (DaemonProcess(cluster, member, settings)) differ in.
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

// How to start one daemon.
struct DaemonLaunch {
  std::string dir;  // holds its config (etcd-defragd.toml) and its log (daemon.log)
  DaemonConfig config;
  std::vector<std::string> command_prefix;  // e.g. {"ip", "netns", "exec", "<ns>"}
  std::chrono::seconds ready_timeout{20};
  // Sent by the destructor: SIGTERM lets the daemon exit by itself (its lock released, and
  // LeakSanitizer's check run in a sanitizer build); SIGKILL for tests that stop it themselves.
  int end_signal = SIGTERM;
};

class DaemonProcess {
 public:
  // Throws std::runtime_error (the daemon killed) when it exits or is not ready in time.
  explicit DaemonProcess(DaemonLaunch launch);
  // Member `member`'s daemon of a plain (or kAuth) cluster, in <cluster dir>/daemon-<member><tag>,
  // with the kill-switch file <dir>/pause.
  DaemonProcess(const EtcdCluster& cluster, int member, const DaemonSettings& s,
                const std::string& tag = "");
  // The end signal (SIGCONT first, in case a test froze it); SIGKILL after 30 s.
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Sends sig and waits for the exit (SIGKILL after grace); returns the exit status, 128 + the
  // signal when killed. Once stopped, returns the status it stopped with.
  int stop(int sig, std::chrono::milliseconds grace = std::chrono::seconds(30));
  void signal(int sig) const;  // nothing once stopped
  bool running() const;
  // Writes a new config, for a reload by SIGHUP.
  void write_config(const DaemonConfig& config) const;

  // GET path from its HTTP listener ("" when it does not answer).
  std::string get(const std::string& path) const;
  std::string metrics() const { return get("/metrics"); }
  // The value of one series of /metrics, written as exported (`etcd_defragd_lock_held`,
  // `name{a="1"}`); -1 when absent.
  double metric(const std::string& series) const;
  std::string log() const;

  const std::string& config_path() const { return config_; }
  const std::string& log_path() const { return log_; }
  const std::string& pause_file() const { return pause_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }  // 0 once stopped

 private:
  void start(std::chrono::seconds ready_timeout);

  std::vector<std::string> prefix_;
  std::string config_, log_, pause_;
  int end_signal_;
  pid_t pid_ = 0;
  std::string host_;
  int port_ = 0;
  int exit_status_ = -1;
};

using Daemons = std::vector<std::unique_ptr<DaemonProcess>>;

// One daemon per member of cluster, daemon i on member i.
Daemons start_daemons(const EtcdCluster& cluster, const DaemonSettings& s);

// The index of the one running daemon that reports holding the lock, waiting up to timeout
// for there to be exactly one; -1 if there are none or several. Null entries are skipped.
int lock_holder(const Daemons& daemons, std::chrono::milliseconds timeout);

// The sum over the running daemons of one series of their /metrics; a daemon without it adds 0.
double series_total(const Daemons& daemons, const std::string& series);

// The sum over the running daemons of every sample of family name whose labels contain every
// fragment.
double family_total(const Daemons& daemons, const std::string& name,
                    const std::vector<std::string>& fragments = {});

}  // namespace edd::test
