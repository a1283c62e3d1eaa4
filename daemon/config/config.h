// Config: the daemon's settings after loading and validation (loader.h), in our own types with
// the defaults config/etcd-defragd.toml documents. A plain value: copy it freely; holds no secrets
// (only the paths of files that hold them). Thread-safe to read.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/listen_address.h"
#include "config/maintenance_window.h"
#include "policy/run_policy.h"
#include "rule/rule.h"

namespace edd::config {

inline constexpr std::string_view kDefaultRule = "dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024";
// etcd's --quota-backend-bytes default, assumed when a member reports no quota of its own.
inline constexpr std::int64_t kEtcdDefaultQuotaBytes = 2LL * 1024 * 1024 * 1024;

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

struct EtcdConfig {
  std::vector<std::string> endpoints{"127.0.0.1:2379"};  // as written; each parses as an endpoint
  std::string local_endpoint = "127.0.0.1:2379";         // this host's member
  bool cluster = true;                                   // discover every member with MemberList
  std::string cacert;                                    // absolute paths; empty = not set
  std::string cert;
  std::string key;
  std::string user;
  std::string password_file;  // read by make_client_options(), never kept here
  std::chrono::milliseconds dial_timeout{std::chrono::seconds(2)};
  std::chrono::milliseconds command_timeout{std::chrono::seconds(30)};
  // The local member's data directory (etcd --data-dir): its free bytes are published for the
  // run's room-on-disk check. A directory that does not exist leaves the room unknown.
  std::string data_dir = "/var/lib/etcd";
};

// The run's choices (policy::RunPolicy, with the daemon's own defaults) and the daemon's.
struct PolicyConfig : policy::RunPolicy {
  PolicyConfig() {
    move_leader = policy::MoveLeader::kAuto;
    auto_disalarm = true;
    // 2 % of the quota: under the default rule's "dbSizeFree > 200 MiB" on the largest quota
    // etcd recommends (8 GiB: 164 MiB), so that branch still defragments, but above the few
    // pages a compact database keeps free (a 2 GiB quota 85 % full with 10 MB free is left alone
    // instead of being stalled every min_interval for nothing). NOSPACE ignores it.
    min_reclaim.quota_ratio = 0.02;
  }
  std::chrono::milliseconds poll_interval{std::chrono::seconds(30)};
  rule::Rule rule = default_rule();
  // Assumed for a member that reports no quota (etcd < 3.6 and its metrics unreachable);
  // 0 = automatic, i.e. etcd's own default of 2 GiB. See fallback_quota_bytes().
  std::int64_t quota_bytes = 0;
  std::chrono::milliseconds min_interval{std::chrono::hours(1)};
  bool nospace_bypasses_min_interval = true;
  // Members on different minor versions (a rolling upgrade) or a downgrade enabled: wait.
  bool defrag_during_version_change = false;
  std::string pause_file = "/etc/etcd-defragd/pause";  // its presence pauses every action
  std::vector<MaintenanceWindow> maintenance_windows;  // empty = always allowed

  std::int64_t fallback_quota_bytes() const {
    return quota_bytes > 0 ? quota_bytes : kEtcdDefaultQuotaBytes;
  }
  static rule::Rule default_rule();
};

struct LockConfig {
  std::string prefix = "/etcd-defragd/lock";  // keys are prefix/<lease-id-hex>
  std::chrono::seconds ttl{60};               // etcd lease TTLs are whole seconds
};

struct HttpConfig {
  ListenAddress listen{"127.0.0.1", 9479};
  std::string cert;  // TLS when cert and key are set
  std::string key;
  std::string client_ca;           // require client certificates signed by this CA
  std::string webhook_token_file;  // bearer token for the Alertmanager webhook; unset: disabled
  // Only firing alerts carrying every one of these labels trigger a run.
  std::vector<std::pair<std::string, std::string>> webhook_matchers{{"remediation", "etcd-defrag"}};
  bool webhook_bypasses_rule = true;  // the alert is the rule; safety checks always apply
  std::size_t body_limit_bytes = std::size_t{1024} * 1024;  // larger requests get 413
  // What keeps the listener available when a client misbehaves (http::ServerOptions explains
  // each); the defaults need no tuning.
  std::size_t max_connections = 256;
  std::size_t max_connections_per_address = 32;
  std::chrono::milliseconds request_head_timeout{5'000};
  std::chrono::milliseconds idle_timeout{30'000};
  std::chrono::milliseconds tls_handshake_timeout{5'000};
};

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
};

// [usage_scan]: the daemon's own `usage` scan, for the prefix metrics (only the lock holder
// scans, between polls, never during a run; see service/usage_scan.h).
struct UsageScanConfig {
  bool enabled = true;
  std::chrono::milliseconds interval{std::chrono::hours(3)};
  std::int64_t top = 10;         // prefixes exported by name; the rest as "other"
  std::int64_t page_size = 500;  // keys per Range request
  double rate = 2000;            // keys per second at most
};

struct Config {
  std::string source;  // the file it came from, for log lines
  EtcdConfig etcd;
  PolicyConfig policy;
  LockConfig lock;
  HttpConfig http;
  LogConfig log;
  UsageScanConfig usage_scan;
};

std::string_view to_string(LogLevel l);
std::string_view to_string(LogFormat f);

}  // namespace edd::config
