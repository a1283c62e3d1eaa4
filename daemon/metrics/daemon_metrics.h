// Every series the dashboards and alerts rely on (the contract the metrics unit test lists), in
// one prometheus-cpp registry, fed with our own structs (member snapshots, run reports) and
// serialized as Prometheus text for GET /metrics. Thread-safe: the poll thread updates while the
// HTTP thread serializes; every method locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "defrag/report.h"
#include "etcd/member_snapshot.h"
#include "metrics/usage_metrics.h"
#include "policy/trigger.h"

namespace edd::metrics {

// The label `trigger` of etcd_defragd_runs_total: "rule" (NOSPACE included: the dashboards and
// alerts know three values), "alertmanager" or "manual".
std::string trigger_label(policy::Trigger trigger);

// One series of etcd_defragd_certificate_expiry_timestamp_seconds: whose certificate
// ("client", or "server" with the member and its endpoint) and its notAfter.
struct CertificateExpiry {
  std::string certificate;
  std::string member;
  std::string endpoint;
  std::int64_t not_after_unix = 0;
};

// What the daemon concluded about one member in a poll, beside its snapshot.
struct MemberVerdict {
  bool healthy = false;
  std::optional<bool> rule_match;  // empty: the rule was not evaluated (no status, eval error)
  // The rule fired but the reclaim floor holds the member back; empty like rule_match.
  std::optional<bool> reclaim_floor_blocked{};
  std::optional<std::int64_t> reclaim_floor_bytes{};  // the floor for its quota; empty: no status
};

// Families beyond the contract (kept small, documented here):
// - etcd_defragd_member_quota_source{member,member_id,endpoint,source} = 1: which quota won
//   (status, metrics or flag); a 2 GiB "flag" quota on etcd 3.4 may be a wrong guess.
// - etcd_defragd_defrag_duration_seconds carries a `member` label, for per-member panels.
// - etcd_defragd_member_known_defrag_bug{...,version,issue,fixed_in} = 1 per known defrag bug
//   of the member's etcd release; etcd_defragd_version_change_in_progress{kind} = 0 or 1.
// - etcd_defragd_webhook_unauthorized_total{reason} and
//   etcd_defragd_http_connections_rejected_total{reason}: what the listener turned away.
// Members are identified by endpoint: a member gone from the view (removed, or its endpoint
// changed) loses all its series; a member that stops answering keeps its labels (its last
// known name and ID) with healthy=0 and alarms, and loses its size series until it answers.
// Counters and histograms by member are history and stay.
class DaemonMetrics {
 public:
  explicit DaemonMetrics(const std::string& version);
  ~DaemonMetrics();
  DaemonMetrics(const DaemonMetrics&) = delete;
  DaemonMetrics& operator=(const DaemonMetrics&) = delete;

  // One poll's view: verdicts[i] belongs to members[i]; a missing verdict means unhealthy
  // with no rule verdict. Series of members absent from `members` are removed.
  void update_members(const std::vector<etcd::MemberSnapshot>& members,
                      const std::vector<MemberVerdict>& verdicts);

  // Counts the run by trigger and outcome, each member's result, its defrag time, the bytes
  // reclaimed and the alarms disarmed; `finished_at` becomes last_run_timestamp_seconds.
  void record_run(policy::Trigger trigger, const defrag::RunReport& report,
                  std::chrono::system_clock::time_point finished_at);

  // This host's etcd.data_dir free bytes; nullopt removes the series (unreadable).
  void set_data_dir_free(std::optional<std::uint64_t> bytes);
  void set_lock_held(bool held);
  void record_poll(std::chrono::duration<double> took, bool ok);
  void count_webhook(int status_code);
  // A 401 on the token routes (webhook, /v1/defrag) by reason: "missing_token", "wrong_token".
  void count_unauthorized(const std::string& reason);
  // A connection the HTTP listener refused, evicted or cut at a deadline, by reason (see
  // http::connection_event_name; the known ones are exported from zero).
  void count_http_connection_rejected(const std::string& reason);

  // The daemon's last usage scan (metrics/usage_metrics.h): its top prefixes replace the last's.
  void record_usage_scan(const UsageScanSample& scan);
  void clear_usage_prefixes();  // this daemon no longer holds the lock
  // Replaces every certificate-expiry series with these (members gone lose theirs).
  void set_certificate_expiry(const std::vector<CertificateExpiry>& series);

  // Prometheus text exposition format 0.0.4.
  std::string serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edd::metrics
