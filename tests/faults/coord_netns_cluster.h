// A real etcd cluster whose members each run in a network namespace of their own, joined by veth
// pairs to a bridge in a further namespace, with one `etcd-defragd run` per member inside that
// member's namespace: cutting a member off is one bridge port going down. The 10.200.0.0/24
// addresses exist only in these namespaces; the host's interfaces and routes are never touched.
// The destructor stops every process by PID, then deletes the namespaces (and with them the
// veths), also when a test fails. Needs root and iproute2. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "coord_support.h"
#include "harness/etcd_cluster.h"
#include "harness/process.h"
#include "support/daemon_process.h"

namespace edd::test::coord {

// A daemon beside each member: DaemonConfig's defaults (1 s polls, 1 h min_interval, 10 s lock
// TTL) but for these.
struct NetnsDaemonSettings {
  std::string rule = "dbSize > 0";  // every member, every time: min_interval makes it one run
  bool start_paused = false;        // create the kill-switch file before the daemon starts
};

class NetnsCluster {
 public:
  // Empty when namespaces can be made here, else why not (checked by creating and deleting one).
  static std::string unsupported_reason();

  // Creates the namespaces and the bridge, starts `members` etcd members and waits until every
  // one is healthy (throws std::runtime_error with the logs' tails if not within 30 s).
  explicit NetnsCluster(int members, std::int64_t quota_backend_bytes = 0);
  ~NetnsCluster();
  NetnsCluster(const NetnsCluster&) = delete;
  NetnsCluster& operator=(const NetnsCluster&) = delete;

  int size() const { return members_; }
  std::string namespace_of(int i) const;
  std::string address(int i) const;          // "10.200.0.<i+1>"
  std::string client_endpoint(int i) const;  // "10.200.0.<i+1>:2379"
  std::string client_url(int i) const;       // "http://10.200.0.<i+1>:2379", as etcd lists it
  std::string endpoints_csv() const;

  // etcdctl run from the bridge's namespace (10.200.0.254); endpoints "" = every member.
  CommandResult etcdctl(const std::vector<std::string>& args, const std::string& endpoints = "",
                        const std::string& stdin_data = "") const;
  Etcdctl etcdctl_fn() const;
  // "starting/finished defragment" of every member's etcd log, in time order.
  std::vector<DefragEvent> defrag_events() const;

  // Starts the daemon of member i in member i's namespace, its HTTP listener on the member's
  // address; waits until it logs "ready".
  void start_daemon(int i, const NetnsDaemonSettings& settings);
  const DaemonProcess& daemon(int i) const;  // throws std::logic_error if not started
  std::string daemon_log(int i) const;
  std::string pause_file(int i) const;
  // GET /metrics from inside the daemon's own namespace ("" when it does not answer).
  std::string daemon_metrics(int i) const;
  // The daemon's etcd_defragd_lock_held, or -1 when its /metrics does not answer.
  double lock_held(int i) const;

  void partition(int i);  // member i's bridge port goes down: it and its daemon are cut off
  void heal(int i);

 private:
  void make_network();
  void start_members(std::int64_t quota_backend_bytes);
  void wait_members_healthy() const;
  void ip(const std::vector<std::string>& args) const;
  std::string member_dir(int i) const;
  std::string peer_url(int i) const;
  void stop_processes_now();
  void delete_namespaces();

  int members_;
  std::string prefix_;  // namespace names: <prefix>-br, <prefix>-m<i>
  std::string dir_;
  std::vector<std::string> namespaces_;  // created so far, deleted in the destructor
  std::vector<pid_t> member_pids_;
  std::vector<std::unique_ptr<DaemonProcess>> daemons_;  // daemons_[i] runs beside member i
};

}  // namespace edd::test::coord
