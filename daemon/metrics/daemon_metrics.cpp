#include "metrics/daemon_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>
#include <set>
#include <type_traits>
#include <utility>

#include "defrag/versions.h"

namespace edd::metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

constexpr RunTrigger kTriggers[] = {RunTrigger::kRule, RunTrigger::kAlertmanager,
                                    RunTrigger::kManual};
constexpr defrag::Outcome kOutcomes[] = {defrag::Outcome::kSuccess, defrag::Outcome::kFailed,
                                         defrag::Outcome::kAborted, defrag::Outcome::kDryRun};
// Always exported per member (0 or 1) so alerts compare values instead of testing absence;
// an unknown alarm appears only while raised.
constexpr etcd::AlarmType kKnownAlarms[] = {etcd::AlarmType::kNoSpace, etcd::AlarmType::kCorrupt};

// A few MB live defragment in 0.07 s, 100 MB in ~0.4 s; multi-GiB members take minutes.
const Histogram::BucketBoundaries kDefragBuckets = {0.05, 0.1, 0.25, 0.5, 1,   2.5, 5,
                                                    10,   30,  60,   120, 300, 600, 900};
// A poll is a Status per member in parallel, bounded by the command timeout.
const Histogram::BucketBoundaries kPollBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                  0.5,   1,    2.5,   5,    10,  30};

// The member label: its name, else its ID, else its endpoint, so a series always names it.
std::string member_label(const std::string& name, std::uint64_t id, const std::string& endpoint) {
  if (!name.empty()) return name;
  if (id != 0) return etcd::member_id_hex(id);
  return endpoint;
}

}  // namespace

std::string trigger_name(RunTrigger trigger) {
  switch (trigger) {
    case RunTrigger::kRule:
      return "rule";
    case RunTrigger::kAlertmanager:
      return "alertmanager";
    case RunTrigger::kManual:
      break;
  }
  return "manual";
}

struct DaemonMetrics::Impl {
  explicit Impl(const std::string& version);

  template <class T>
  static Family<T>& family(prometheus::Registry& r, const std::string& name,
                           const std::string& help) {
    if constexpr (std::is_same_v<T, Gauge>) {
      return prometheus::BuildGauge().Name(name).Help(help).Register(r);
    } else if constexpr (std::is_same_v<T, Counter>) {
      return prometheus::BuildCounter().Name(name).Help(help).Register(r);
    } else {
      return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
    }
  }

  // Sets one per-member gauge and remembers it as wanted in this update.
  void set_member(Family<Gauge>& f, Labels labels, double value);

  mutable std::mutex mutex;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  Family<Gauge>& db_size;
  Family<Gauge>& db_size_in_use;
  Family<Gauge>& db_size_free;
  Family<Gauge>& db_quota;
  Family<Gauge>& db_quota_usage;
  Family<Gauge>& is_leader;
  Family<Gauge>& healthy;
  Family<Gauge>& alarm_active;
  Family<Gauge>& rule_match;
  Family<Gauge>& quota_source;
  Family<Gauge>& known_defrag_bug;
  Family<Gauge>& version_change;

  Family<Counter>& runs;
  Family<Counter>& member_defrags;
  Family<Histogram>& defrag_duration;
  Counter& reclaimed;
  Gauge& last_run;
  Gauge& lock_held;
  Counter& disarms;
  Histogram& poll_duration;
  Counter& poll_errors;
  Family<Counter>& webhook_requests;
  Family<Counter>& webhook_unauthorized;
  Family<Counter>& http_rejected;

  // Per-member series alive now, so the next update can remove the ones it no longer sets.
  using SeriesKey = std::pair<Family<Gauge>*, Labels>;
  std::map<SeriesKey, Gauge*> member_series;
  std::set<SeriesKey> wanted;
  // Last known name and ID per endpoint: a member that stops answering keeps its labels.
  std::map<std::string, std::pair<std::string, std::uint64_t>> identity;
};

DaemonMetrics::Impl::Impl(const std::string& version)
    : db_size(family<Gauge>(*registry, "etcd_defragd_member_db_size_bytes",
                            "Size of the member's backend database file (etcd dbSize).")),
      db_size_in_use(
          family<Gauge>(*registry, "etcd_defragd_member_db_size_in_use_bytes",
                        "Bytes of the member's database file in use (etcd dbSizeInUse).")),
      db_size_free(
          family<Gauge>(*registry, "etcd_defragd_member_db_size_free_bytes",
                        "Bytes a defragmentation could give back: dbSize minus dbSizeInUse.")),
      db_quota(family<Gauge>(
          *registry, "etcd_defragd_member_db_quota_bytes",
          "The member's backend quota (--quota-backend-bytes); see member_quota_source.")),
      db_quota_usage(family<Gauge>(*registry, "etcd_defragd_member_db_quota_usage_ratio",
                                   "dbSize divided by the quota; NOSPACE is raised at 1.")),
      is_leader(family<Gauge>(*registry, "etcd_defragd_member_is_leader",
                              "1 if the member is the raft leader, else 0.")),
      healthy(family<Gauge>(
          *registry, "etcd_defragd_member_healthy",
          "1 if the member answered Status and a linearizable read at the last poll, else 0.")),
      alarm_active(family<Gauge>(*registry, "etcd_defragd_member_alarm_active",
                                 "1 while the member has the alarm raised, else 0.")),
      rule_match(family<Gauge>(
          *registry, "etcd_defragd_member_rule_match",
          "1 if the defrag rule matches the member at the last poll, 0 if not; absent "
          "when it could not be evaluated.")),
      quota_source(family<Gauge>(
          *registry, "etcd_defragd_member_quota_source",
          "Always 1; the label source says where db_quota_bytes came from: status (etcd "
          "3.6+), metrics (etcd_server_quota_backend_bytes) or flag (configured).")),
      known_defrag_bug(family<Gauge>(
          *registry, "etcd_defragd_member_known_defrag_bug",
          "1 per known defragmentation bug of the etcd release the member runs; the labels "
          "issue and fixed_in name it and the first release without it.")),
      version_change(family<Gauge>(
          *registry, "etcd_defragd_version_change_in_progress",
          "1 while an etcd upgrade (members on different minor versions) or downgrade is in "
          "progress, by kind; the daemon starts no run meanwhile unless configured to.")),
      runs(family<Counter>(*registry, "etcd_defragd_runs_total",
                           "Defrag runs by what triggered them and their outcome.")),
      member_defrags(family<Counter>(
          *registry, "etcd_defragd_member_defrags_total",
          "Members handled by runs, by result (defragmented, skipped, failed, not reached).")),
      defrag_duration(family<Histogram>(*registry, "etcd_defragd_defrag_duration_seconds",
                                        "Duration of each successful Defragment call, by member.")),
      reclaimed(family<Counter>(*registry, "etcd_defragd_reclaimed_bytes_total",
                                "Bytes of database files given back by defragmentation.")
                    .Add({})),
      last_run(family<Gauge>(*registry, "etcd_defragd_last_run_timestamp_seconds",
                             "Unix time the last run by this daemon finished; 0 before any.")
                   .Add({})),
      lock_held(family<Gauge>(*registry, "etcd_defragd_lock_held",
                              "1 while this daemon holds the actor lock, else 0.")
                    .Add({})),
      disarms(family<Counter>(*registry, "etcd_defragd_alarm_disarms_total",
                              "NOSPACE alarms disarmed, one per member.")
                  .Add({})),
      poll_duration(family<Histogram>(*registry, "etcd_defragd_poll_duration_seconds",
                                      "Duration of each poll of the members' status.")
                        .Add({}, kPollBuckets)),
      poll_errors(family<Counter>(*registry, "etcd_defragd_poll_errors_total",
                                  "Polls that failed to get a full view of the cluster.")
                      .Add({})),
      webhook_requests(family<Counter>(*registry, "etcd_defragd_webhook_requests_total",
                                       "Webhook requests (Alertmanager, manual) by HTTP status.")),
      webhook_unauthorized(family<Counter>(
          *registry, "etcd_defragd_webhook_unauthorized_total",
          "401 answers of the token routes (webhook, manual) by reason: missing_token or "
          "wrong_token.")),
      http_rejected(family<Counter>(
          *registry, "etcd_defragd_http_connections_rejected_total",
          "HTTP connections refused, evicted or closed at a deadline to keep the listener "
          "available, by reason.")) {
  family<Gauge>(*registry, "etcd_defragd_build_info", "Always 1; the label version is ours.")
      .Add({{"version", version}})
      .Set(1);
  // Every trigger x outcome from zero, so rate() and increase() see the first run.
  for (auto t : kTriggers) {
    for (auto o : kOutcomes) {
      runs.Add({{"trigger", trigger_name(t)}, {"result", defrag::outcome_name(o)}});
    }
  }
  // The webhook's answers from zero too, so a single 401 shows in increase() (and alerts).
  for (auto kind : {defrag::VersionChange::kUpgrade, defrag::VersionChange::kDowngrade}) {
    version_change.Add({{"kind", defrag::version_change_name(kind)}});
  }
  for (const char* code : {"200", "202", "400", "401", "404", "405", "413", "431", "500"}) {
    webhook_requests.Add({{"code", code}});
  }
  for (const char* reason : {"missing_token", "wrong_token"}) {
    webhook_unauthorized.Add({{"reason", reason}});
  }
  // http::connection_event_name's values; a slowloris shows in increase() from its first.
  for (const char* reason : {"listener_full", "per_address_limit", "evicted_incomplete",
                             "head_timeout", "request_timeout", "tls_handshake_timeout"}) {
    http_rejected.Add({{"reason", reason}});
  }
}

void DaemonMetrics::Impl::set_member(Family<Gauge>& f, Labels labels, double value) {
  auto& gauge = f.Add(labels);
  gauge.Set(value);
  SeriesKey key{&f, std::move(labels)};
  member_series.emplace(key, &gauge);
  wanted.insert(std::move(key));
}

DaemonMetrics::DaemonMetrics(const std::string& version) : impl_(std::make_unique<Impl>(version)) {}

DaemonMetrics::~DaemonMetrics() = default;

void DaemonMetrics::update_members(const std::vector<etcd::MemberSnapshot>& members,
                                   const std::vector<MemberVerdict>& verdicts) {
  std::lock_guard lock(impl_->mutex);
  auto& m = *impl_;
  m.wanted.clear();
  std::map<std::string, std::pair<std::string, std::uint64_t>> identity;

  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto& snap = members[i];
    const MemberVerdict verdict = i < verdicts.size() ? verdicts[i] : MemberVerdict{};

    auto known = m.identity.find(snap.endpoint);
    std::string name = snap.name;
    std::uint64_t id = snap.status ? snap.status->member_id : 0;
    if (known != m.identity.end()) {
      if (name.empty()) name = known->second.first;
      if (id == 0) id = known->second.second;
    }
    identity[snap.endpoint] = {name, id};

    const Labels labels{{"member", member_label(name, id, snap.endpoint)},
                        {"member_id", id != 0 ? etcd::member_id_hex(id) : ""},
                        {"endpoint", snap.endpoint}};
    auto with = [&labels](const char* key, std::string value) {
      Labels l = labels;
      l[key] = std::move(value);
      return l;
    };

    // Per-member history from zero, so increase() counts a member's first defrag and its
    // duration (a series born at its first event hides that event). History is never removed.
    for (auto r : {defrag::MemberResult::kDefragmented, defrag::MemberResult::kSkipped,
                   defrag::MemberResult::kFailed, defrag::MemberResult::kNotReached}) {
      m.member_defrags.Add(
          {{"member", labels.at("member")}, {"result", defrag::member_result_name(r)}});
    }
    m.defrag_duration.Add({{"member", labels.at("member")}}, kDefragBuckets);
    m.set_member(m.healthy, labels, verdict.healthy ? 1 : 0);
    for (auto a : kKnownAlarms) m.set_member(m.alarm_active, with("alarm", etcd::alarm_name(a)), 0);
    for (auto a : snap.alarms) {
      if (a != etcd::AlarmType::kNone) {
        m.set_member(m.alarm_active, with("alarm", etcd::alarm_name(a)), 1);
      }
    }
    if (verdict.rule_match) m.set_member(m.rule_match, labels, *verdict.rule_match ? 1 : 0);
    if (!snap.status) continue;  // sizes of a member that did not answer are unknown, not stale

    const auto& s = *snap.status;
    m.set_member(m.db_size, labels, static_cast<double>(s.db_size));
    m.set_member(m.db_size_in_use, labels, static_cast<double>(s.db_size_in_use));
    m.set_member(m.db_size_free, labels, static_cast<double>(snap.db_size_free()));
    m.set_member(m.is_leader, labels, s.is_leader() ? 1 : 0);
    if (snap.quota_bytes > 0) {
      m.set_member(m.db_quota, labels, static_cast<double>(snap.quota_bytes));
      m.set_member(m.db_quota_usage, labels, snap.quota_usage());
      m.set_member(m.quota_source, with("source", etcd::quota_source_name(snap.quota_source)), 1);
    }
    for (const auto& bug : defrag::known_defrag_bugs(s.version)) {
      Labels l = with("version", s.version);
      l["issue"] = bug.issue;
      l["fixed_in"] = bug.fixed_in;
      m.set_member(m.known_defrag_bug, std::move(l), 1);
    }
  }
  const auto change = defrag::detect_version_change(members).change;
  for (auto kind : {defrag::VersionChange::kUpgrade, defrag::VersionChange::kDowngrade}) {
    m.version_change.Add({{"kind", defrag::version_change_name(kind)}}).Set(change == kind ? 1 : 0);
  }

  for (auto it = m.member_series.begin(); it != m.member_series.end();) {
    if (m.wanted.contains(it->first)) {
      ++it;
    } else {
      it->first.first->Remove(it->second);
      it = m.member_series.erase(it);
    }
  }
  m.identity = std::move(identity);
}

void DaemonMetrics::record_run(RunTrigger trigger, const defrag::RunReport& report,
                               std::chrono::system_clock::time_point finished_at) {
  std::lock_guard lock(impl_->mutex);
  auto& m = *impl_;
  m.runs.Add({{"trigger", trigger_name(trigger)}, {"result", defrag::outcome_name(report.outcome)}})
      .Increment();
  for (const auto& r : report.members) {
    const auto member = member_label(r.name, r.member_id, r.endpoint);
    m.member_defrags.Add({{"member", member}, {"result", defrag::member_result_name(r.result)}})
        .Increment();
    if (r.result == defrag::MemberResult::kDefragmented) {
      m.defrag_duration.Add({{"member", member}}, kDefragBuckets)
          .Observe(std::chrono::duration<double>(r.took).count());
    }
  }
  m.reclaimed.Increment(static_cast<double>(report.reclaimed_bytes()));
  m.disarms.Increment(static_cast<double>(report.disarmed.size()));
  m.last_run.Set(std::chrono::duration<double>(finished_at.time_since_epoch()).count());
}

void DaemonMetrics::set_lock_held(bool held) {
  std::lock_guard lock(impl_->mutex);
  impl_->lock_held.Set(held ? 1 : 0);
}

void DaemonMetrics::record_poll(std::chrono::duration<double> took, bool ok) {
  std::lock_guard lock(impl_->mutex);
  impl_->poll_duration.Observe(took.count());
  if (!ok) impl_->poll_errors.Increment();
}

void DaemonMetrics::count_webhook(int status_code) {
  std::lock_guard lock(impl_->mutex);
  impl_->webhook_requests.Add({{"code", std::to_string(status_code)}}).Increment();
}

void DaemonMetrics::count_unauthorized(const std::string& reason) {
  std::lock_guard lock(impl_->mutex);
  impl_->webhook_unauthorized.Add({{"reason", reason}}).Increment();
}

void DaemonMetrics::count_http_connection_rejected(const std::string& reason) {
  std::lock_guard lock(impl_->mutex);
  impl_->http_rejected.Add({{"reason", reason}}).Increment();
}

std::string DaemonMetrics::serialize() const {
  // Under the same lock as the updates, so a scrape never sees half a poll.
  std::lock_guard lock(impl_->mutex);
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace edd::metrics
