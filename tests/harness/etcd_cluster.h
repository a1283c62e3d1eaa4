// A real etcd cluster on loopback for integration tests and the demo, of the etcd version
// harness/etcd_version.h picks (EDD_ETCD_VERSION; members may run different versions). EtcdCluster
// owns its member processes and its directory and stops them by PID when destroyed. Not
// thread-safe: use one instance from one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/etcd_member.h"
#include "harness/etcd_version.h"
#include "harness/pki.h"
#include "harness/process.h"
#include "support/data_digest.h"

namespace edd::test {

enum class Security {
  kPlain,  // http, no authentication
  kTls,    // https for clients and peers, client certificates required (CN root)
  kAuth,   // http with etcd's user authentication: root and app-user
};

struct ClusterOptions {
  int members = 3;
  std::int64_t quota_backend_bytes = 0;  // 0: etcd's default (2 GiB)
  Security security = Security::kPlain;
  std::string name = "edd";  // member names: <name>-0, <name>-1, ...
  // Empty: a fresh directory under $TMPDIR or /tmp, removed at the end unless EDD_KEEP_TEST_DIRS
  // is set. Otherwise this directory is used (created if needed) and kept.
  std::string base_dir;
  // "" = EDD_ETCD_VERSION (etcd_version.h); else "3.4", "3.5", "3.6", "3.7" or an exact version.
  std::string etcd_version;
  // One version per member, for a cluster in the middle of a rolling upgrade; empty = all run
  // etcd_version. etcdctl is always etcd_version's.
  std::vector<std::string> member_versions;
  // Added to every member's command line, e.g. stop_grpc_service_on_defrag_flags().
  std::vector<std::string> extra_flags;
  // kTls: how long the generated certificates are valid (default two days each).
  PkiLifetimes pki_lifetimes;
};

// One member's `etcdctl endpoint status -w json`.
struct EndpointStatus {
  std::string endpoint;
  std::uint64_t member_id = 0;
  std::uint64_t leader_id = 0;
  std::int64_t revision = 0;
  std::int64_t db_size_bytes = 0;
  std::int64_t db_size_in_use_bytes = 0;
  bool is_leader() const { return member_id == leader_id; }
};

struct FragmentResult {
  int keys_written = 0;  // each written twice
  int keys_kept = 0;
  std::int64_t compact_revision = 0;
};

class EtcdCluster {
 public:
  // Throws std::runtime_error naming the member and quoting the tail of its log if the cluster is
  // not healthy within 20 s. Retries with new ports (3 attempts) if a port was taken meanwhile.
  static std::unique_ptr<EtcdCluster> start(const ClusterOptions& options);
  // Stops the members one at a time by PID (SIGTERM, SIGKILL after 5 s); removes a temporary dir.
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const;
  const std::string& dir() const;
  std::vector<std::string> client_endpoints() const;  // "127.0.0.1:PORT" or "https://..."
  std::string endpoints_csv() const;
  std::string client_endpoint(int i) const;
  std::string metrics_url(int i) const;  // "http://127.0.0.1:PORT" (/metrics, /health)
  std::string member_name(int i) const;
  pid_t pid(int i) const;             // 0 when stopped
  std::string log_path(int i) const;  // etcd's zap JSON log
  std::string data_dir(int i) const;

  void stop_member(int i);  // SIGTERM, wait up to 5 s, then SIGKILL
  // Sends signal; waits for the exit when it is SIGKILL or SIGTERM (then pid(i) is 0).
  void kill_member(int i, int signal);
  // Restarts a stopped member with the same flags, ports and data dir.
  void start_member(int i);
  // Every running member answers `etcdctl endpoint health`; throws on timeout or if a member
  // process has exited.
  void wait_healthy(std::chrono::seconds timeout);

  // etcdctl with --endpoints (endpoints "" = every member), TLS files and root's credentials
  // (kAuth, in the environment) added; args may override them. 60 s timeout.
  CommandResult etcdctl(const std::vector<std::string>& args, const std::string& endpoints = "",
                        const std::string& stdin_data = "") const;
  // Same; returns stdout, throws std::runtime_error with stderr on a non-zero exit.
  std::string etcdctl_ok(const std::vector<std::string>& args,
                         const std::string& endpoints = "") const;

  // The etcd release of member i, and the one whose etcdctl the harness uses.
  const EtcdRelease& release(int i) const;
  const EtcdRelease& release() const;
  // Stops member i, then starts it again on the same ports and data dir running version (a
  // rolling upgrade or downgrade of one member).
  void restart_member_as(int i, const std::string& version);

  // kTls only: files generated in dir()/pki.
  std::string ca_file() const;
  std::string client_cert_file() const;
  std::string client_key_file() const;
  // kAuth only: random per cluster. app-user has readwrite on every key, not the root role.
  std::string root_password() const;
  std::string user_name() const;
  std::string user_password() const;

  // Status of each endpoint (endpoints "" = every member); throws if one does not answer.
  std::vector<EndpointStatus> endpoint_status(const std::string& endpoints = "") const;

  // "starting defragment" / "finished defragment" lines of every member's log, in time order
  // (on equal timestamps "finished" first, so 1 ms of resolution never invents an overlap).
  std::vector<DefragEvent> defrag_events() const;

  // Writes about approx_bytes in 64 KiB values under prefix, overwrites every value once,
  // deletes all keys but one in keep_one_in, and compacts at the last revision, so that every
  // member's dbSize ends well above dbSizeInUse. Returns once each running member reports the
  // space freed by the compaction (it writes and deletes prefix + "compaction-nudge" for that).
  // Goes through etcd's JSON gateway with curl (~1 MiB per request).
  FragmentResult write_and_fragment(std::int64_t approx_bytes, const std::string& prefix = "/frag/",
                                    int keep_one_in = 10);
  // Count and checksum of every key, read from endpoint ("" = the cluster, linearizable; one
  // member's endpoint: that member's own copy, serializable).
  DataDigest digest(const std::string& endpoint = "") const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    int metrics_port = 0;
    pid_t pid = 0;
    std::string version;  // as given to etcd_release()
  };

  explicit EtcdCluster(const ClusterOptions& options);
  void launch();
  bool try_launch(std::string* bind_error);
  std::vector<std::string> member_argv(int i, const std::string& cluster_state) const;
  std::string member_dir(int i) const;
  std::string peer_url(int i) const;
  std::string logs_tail(int i) const;  // of its etcd log and its stdout, for a failure
  void stop_all();
  void enable_auth();
  std::string gateway_post(const std::string& path, const std::string& body,
                           const std::string& token) const;
  void wait_compacted(std::int64_t revision, const std::vector<std::int64_t>& in_use_before,
                      const std::string& nudge_key, const std::string& token);
  const Member& member(int i) const;

  ClusterOptions options_;
  std::string dir_;
  bool remove_dir_ = false;
  std::string cluster_token_;
  std::vector<Member> members_;
  std::string ca_file_, server_cert_file_, server_key_file_, client_cert_file_, client_key_file_;
  std::string root_password_, user_password_;
  bool auth_enabled_ = false;
};

}  // namespace edd::test
