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

constexpr policy::Trigger kTriggers[] = {policy::Trigger::kRule, policy::Trigger::kWebhook,
                                         policy::Trigger::kManual};
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

// Every family's name and help, as a scrape shows them.
struct FamilySpec {
  const char* name;
  const char* help;
};
constexpr FamilySpec kDbSize{"etcd_defragd_member_db_size_bytes",
                             "Size of the member's backend database file (etcd dbSize)."};
constexpr FamilySpec kDbSizeInUse{"etcd_defragd_member_db_size_in_use_bytes",
                                  "Bytes of the member's database file in use (etcd dbSizeInUse)."};
constexpr FamilySpec kDbSizeFree{
    "etcd_defragd_member_db_size_free_bytes",
    "Bytes a defragmentation could give back: dbSize minus dbSizeInUse."};
constexpr FamilySpec kDbQuota{
    "etcd_defragd_member_db_quota_bytes",
    "The member's backend quota (--quota-backend-bytes); see member_quota_source."};
constexpr FamilySpec kDbQuotaUsage{"etcd_defragd_member_db_quota_usage_ratio",
                                   "dbSize divided by the quota; NOSPACE is raised at 1."};
constexpr FamilySpec kIsLeader{"etcd_defragd_member_is_leader",
                               "1 if the member is the raft leader, else 0."};
constexpr FamilySpec kHealthy{
    "etcd_defragd_member_healthy",
    "1 if the member answered Status and a linearizable read at the last poll, else 0."};
constexpr FamilySpec kAlarmActive{"etcd_defragd_member_alarm_active",
                                  "1 while the member has the alarm raised, else 0."};
constexpr FamilySpec kRuleMatch{
    "etcd_defragd_member_rule_match",
    "1 if the defrag rule matches the member at the last poll, 0 if not; absent "
    "when it could not be evaluated."};
constexpr FamilySpec kReclaimFloorBlocked{
    "etcd_defragd_member_reclaim_floor_blocked",
    "1 if the rule matches the member but a defrag would give back less than the reclaim floor "
    "(policy.min_reclaim), so it is not defragmented; 0 if not; absent like rule_match."};
constexpr FamilySpec kReclaimFloor{
    "etcd_defragd_member_reclaim_floor_bytes",
    "The least a defrag of the member must give back (policy.min_reclaim for its quota)."};
constexpr FamilySpec kQuotaSource{
    "etcd_defragd_member_quota_source",
    "Always 1; the label source says where db_quota_bytes came from: status (etcd "
    "3.6+), metrics (etcd_server_quota_backend_bytes) or flag (configured)."};
constexpr FamilySpec kKnownDefragBug{
    "etcd_defragd_member_known_defrag_bug",
    "1 per known defragmentation bug of the etcd release the member runs; the labels "
    "issue and fixed_in name it and the first release without it."};
constexpr FamilySpec kVersionChange{
    "etcd_defragd_version_change_in_progress",
    "1 while an etcd upgrade (members on different minor versions) or downgrade is in "
    "progress, by kind; the daemon starts no run meanwhile unless configured to."};
constexpr FamilySpec kRuns{"etcd_defragd_runs_total",
                           "Defrag runs by what triggered them and their outcome."};
constexpr FamilySpec kMemberDefrags{
    "etcd_defragd_member_defrags_total",
    "Members handled by runs, by result (defragmented, skipped, failed, not reached)."};
constexpr FamilySpec kDefragDuration{"etcd_defragd_defrag_duration_seconds",
                                     "Duration of each successful Defragment call, by member."};
constexpr FamilySpec kReclaimed{"etcd_defragd_reclaimed_bytes_total",
                                "Bytes of database files given back by defragmentation."};
constexpr FamilySpec kLastRun{"etcd_defragd_last_run_timestamp_seconds",
                              "Unix time the last run by this daemon finished; 0 before any."};
constexpr FamilySpec kLockHeld{"etcd_defragd_lock_held",
                               "1 while this daemon holds the actor lock, else 0."};
constexpr FamilySpec kDisarms{"etcd_defragd_alarm_disarms_total",
                              "NOSPACE alarms disarmed, one per member."};
constexpr FamilySpec kPollDuration{"etcd_defragd_poll_duration_seconds",
                                   "Duration of each poll of the members' status."};
constexpr FamilySpec kPollErrors{"etcd_defragd_poll_errors_total",
                                 "Polls that failed to get a full view of the cluster."};
constexpr FamilySpec kWebhookRequests{"etcd_defragd_webhook_requests_total",
                                      "Webhook requests (Alertmanager, manual) by HTTP status."};
constexpr FamilySpec kWebhookUnauthorized{
    "etcd_defragd_webhook_unauthorized_total",
    "401 answers of the token routes (webhook, manual) by reason: missing_token or wrong_token."};
constexpr FamilySpec kHttpRejected{
    "etcd_defragd_http_connections_rejected_total",
    "HTTP connections refused, evicted or closed at a deadline to keep the listener available, by "
    "reason."};
// Room on disk (defrag/disk_room.h): one series per member (the label set of the other
// per-member series, gone with the member) and one for this daemon's own data directory.
constexpr FamilySpec kDataDirFree{"etcd_defragd_data_dir_free_bytes",
                                  "Free bytes (statvfs f_bavail x f_frsize) of this host's "
                                  "etcd.data_dir; absent when unreadable."};
constexpr FamilySpec kMemberDiskFree{
    "etcd_defragd_member_disk_free_bytes",
    "Free bytes of the member's data directory as the daemon on its host last published them; "
    "absent when no daemon published it."};
constexpr FamilySpec kNoRoomSkips{
    "etcd_defragd_member_no_room_skips_total",
    "Members a run skipped because their host had less free disk than in use x 1.2 + 64 MiB "
    "(also counted as result=skipped in member_defrags_total)."};
constexpr FamilySpec kCertificateExpiry{
    "etcd_defragd_certificate_expiry_timestamp_seconds",
    "Unix time the certificate stops being valid (notAfter): certificate=\"client\" is the one "
    "this daemon uses, certificate=\"server\" each member's serving certificate as its TLS "
    "handshake presented it."};
constexpr FamilySpec kBuildInfo{"etcd_defragd_build_info", "Always 1; the label version is ours."};

// The member label: its name, else its ID, else its endpoint, so a series always names it.
std::string member_label(const std::string& name, std::uint64_t id, const std::string& endpoint) {
  if (!name.empty()) return name;
  if (id != 0) return etcd::member_id_hex(id);
  return endpoint;
}

}  // namespace

std::string trigger_label(policy::Trigger trigger) {
  switch (trigger) {
    case policy::Trigger::kWebhook:
      return "alertmanager";
    case policy::Trigger::kManual:
      return "manual";
    case policy::Trigger::kRule:
    case policy::Trigger::kNoSpace:
      break;
  }
  return "rule";
}

struct DaemonMetrics::Impl {
  explicit Impl(const std::string& version);

  template <class T>
  static Family<T>& family(prometheus::Registry& r, const FamilySpec& spec) {
    if constexpr (std::is_same_v<T, Gauge>) {
      return prometheus::BuildGauge().Name(spec.name).Help(spec.help).Register(r);
    } else if constexpr (std::is_same_v<T, Counter>) {
      return prometheus::BuildCounter().Name(spec.name).Help(spec.help).Register(r);
    } else {
      return prometheus::BuildHistogram().Name(spec.name).Help(spec.help).Register(r);
    }
  }
  // Every series whose absence would hide a first event, created at zero.
  void start_from_zero();

  // One poll's series of one member; the per-member ones are remembered as wanted.
  std::pair<std::string, std::uint64_t> identify(const etcd::MemberSnapshot& snap) const;
  void set_history_and_health(const etcd::MemberSnapshot& snap, const MemberVerdict& verdict,
                              const Labels& labels);
  void set_sizes(const etcd::MemberSnapshot& snap, const Labels& labels);
  void set_version_change(const std::vector<etcd::MemberSnapshot>& members);
  // Removes the per-member series this update did not set (members gone, alarms cleared).
  void remove_unwanted();

  // Sets one per-member gauge and remembers it as wanted in this update.
  void set_member(Family<Gauge>& f, Labels labels, double value);

  mutable std::mutex mutex;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  UsageMetrics usage{*registry};

  Family<Gauge>& db_size;
  Family<Gauge>& db_size_in_use;
  Family<Gauge>& db_size_free;
  Family<Gauge>& db_quota;
  Family<Gauge>& db_quota_usage;
  Family<Gauge>& is_leader;
  Family<Gauge>& healthy;
  Family<Gauge>& alarm_active;
  Family<Gauge>& rule_match;
  Family<Gauge>& reclaim_floor_blocked;
  Family<Gauge>& reclaim_floor;
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
  Family<Gauge>& certificate_expiry;
  std::vector<Gauge*> certificate_series;

  Family<Gauge>& data_dir_free = family<Gauge>(*registry, kDataDirFree);
  Gauge* data_dir_free_series = nullptr;  // nullptr while the directory is unreadable
  Family<Gauge>& member_disk_free = family<Gauge>(*registry, kMemberDiskFree);
  Family<Counter>& no_room_skips = family<Counter>(*registry, kNoRoomSkips);

  // Per-member series alive now, so the next update can remove the ones it no longer sets.
  using SeriesKey = std::pair<Family<Gauge>*, Labels>;
  std::map<SeriesKey, Gauge*> member_series;
  std::set<SeriesKey> wanted;
  // Last known name and ID per endpoint: a member that stops answering keeps its labels.
  std::map<std::string, std::pair<std::string, std::uint64_t>> identity;
};

DaemonMetrics::Impl::Impl(const std::string& version)
    : db_size(family<Gauge>(*registry, kDbSize)),
      db_size_in_use(family<Gauge>(*registry, kDbSizeInUse)),
      db_size_free(family<Gauge>(*registry, kDbSizeFree)),
      db_quota(family<Gauge>(*registry, kDbQuota)),
      db_quota_usage(family<Gauge>(*registry, kDbQuotaUsage)),
      is_leader(family<Gauge>(*registry, kIsLeader)),
      healthy(family<Gauge>(*registry, kHealthy)),
      alarm_active(family<Gauge>(*registry, kAlarmActive)),
      rule_match(family<Gauge>(*registry, kRuleMatch)),
      reclaim_floor_blocked(family<Gauge>(*registry, kReclaimFloorBlocked)),
      reclaim_floor(family<Gauge>(*registry, kReclaimFloor)),
      quota_source(family<Gauge>(*registry, kQuotaSource)),
      known_defrag_bug(family<Gauge>(*registry, kKnownDefragBug)),
      version_change(family<Gauge>(*registry, kVersionChange)),
      runs(family<Counter>(*registry, kRuns)),
      member_defrags(family<Counter>(*registry, kMemberDefrags)),
      defrag_duration(family<Histogram>(*registry, kDefragDuration)),
      reclaimed(family<Counter>(*registry, kReclaimed).Add({})),
      last_run(family<Gauge>(*registry, kLastRun).Add({})),
      lock_held(family<Gauge>(*registry, kLockHeld).Add({})),
      disarms(family<Counter>(*registry, kDisarms).Add({})),
      poll_duration(family<Histogram>(*registry, kPollDuration).Add({}, kPollBuckets)),
      poll_errors(family<Counter>(*registry, kPollErrors).Add({})),
      webhook_requests(family<Counter>(*registry, kWebhookRequests)),
      webhook_unauthorized(family<Counter>(*registry, kWebhookUnauthorized)),
      http_rejected(family<Counter>(*registry, kHttpRejected)),
      certificate_expiry(family<Gauge>(*registry, kCertificateExpiry)) {
  family<Gauge>(*registry, kBuildInfo).Add({{"version", version}}).Set(1);
  start_from_zero();
}

void DaemonMetrics::Impl::start_from_zero() {
  // Every trigger x outcome from zero, so rate() and increase() see the first run.
  for (auto t : kTriggers) {
    for (auto o : kOutcomes) {
      runs.Add({{"trigger", trigger_label(t)}, {"result", defrag::outcome_name(o)}});
    }
  }
  for (auto kind : {defrag::VersionChange::kUpgrade, defrag::VersionChange::kDowngrade}) {
    version_change.Add({{"kind", defrag::version_change_name(kind)}});
  }
  // The webhook's answers from zero too, so a single 401 shows in increase() (and alerts).
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

// A member that stops answering keeps the name and ID it last had.
std::pair<std::string, std::uint64_t> DaemonMetrics::Impl::identify(
    const etcd::MemberSnapshot& snap) const {
  std::string name = snap.name;
  std::uint64_t id = snap.status ? snap.status->member_id : 0;
  if (auto known = identity.find(snap.endpoint); known != identity.end()) {
    if (name.empty()) name = known->second.first;
    if (id == 0) id = known->second.second;
  }
  return {name, id};
}

void DaemonMetrics::Impl::set_history_and_health(const etcd::MemberSnapshot& snap,
                                                 const MemberVerdict& verdict,
                                                 const Labels& labels) {
  const std::string& member = labels.at("member");
  // Per-member history from zero, so increase() counts a member's first defrag and its
  // duration (a series born at its first event hides that event). History is never removed.
  for (auto r : {defrag::MemberResult::kDefragmented, defrag::MemberResult::kSkipped,
                 defrag::MemberResult::kFailed, defrag::MemberResult::kNotReached}) {
    member_defrags.Add({{"member", member}, {"result", defrag::member_result_name(r)}});
  }
  defrag_duration.Add({{"member", member}}, kDefragBuckets);
  no_room_skips.Add({{"member", member}});
  if (snap.disk_free_bytes) {
    set_member(member_disk_free, labels, static_cast<double>(*snap.disk_free_bytes));
  }
  set_member(healthy, labels, verdict.healthy ? 1 : 0);
  auto alarm = [&labels](etcd::AlarmType a) {
    Labels l = labels;
    l["alarm"] = etcd::alarm_name(a);
    return l;
  };
  for (auto a : kKnownAlarms) set_member(alarm_active, alarm(a), 0);
  for (auto a : snap.alarms) {
    if (a != etcd::AlarmType::kNone) set_member(alarm_active, alarm(a), 1);
  }
  if (verdict.rule_match) set_member(rule_match, labels, *verdict.rule_match ? 1 : 0);
  // No floor verdict means no floor: not held back, a floor of 0.
  if (verdict.rule_match) {
    set_member(reclaim_floor_blocked, labels,
               verdict.reclaim_floor_blocked.value_or(false) ? 1 : 0);
  }
  if (snap.status) {
    set_member(reclaim_floor, labels, static_cast<double>(verdict.reclaim_floor_bytes.value_or(0)));
  }
}

// Only for a member that answered: the sizes of one that did not are unknown, not stale.
void DaemonMetrics::Impl::set_sizes(const etcd::MemberSnapshot& snap, const Labels& labels) {
  const auto& s = *snap.status;
  set_member(db_size, labels, static_cast<double>(s.db_size));
  set_member(db_size_in_use, labels, static_cast<double>(s.db_size_in_use));
  set_member(db_size_free, labels, static_cast<double>(snap.db_size_free()));
  set_member(is_leader, labels, s.is_leader() ? 1 : 0);
  if (snap.quota_bytes > 0) {
    set_member(db_quota, labels, static_cast<double>(snap.quota_bytes));
    set_member(db_quota_usage, labels, snap.quota_usage());
    Labels source = labels;
    source["source"] = etcd::quota_source_name(snap.quota_source);
    set_member(quota_source, std::move(source), 1);
  }
  for (const auto& bug : defrag::known_defrag_bugs(s.version)) {
    Labels l = labels;
    l["version"] = s.version;
    l["issue"] = bug.issue;
    l["fixed_in"] = bug.fixed_in;
    set_member(known_defrag_bug, std::move(l), 1);
  }
}

void DaemonMetrics::Impl::set_version_change(const std::vector<etcd::MemberSnapshot>& members) {
  const auto change = defrag::detect_version_change(members).change;
  for (auto kind : {defrag::VersionChange::kUpgrade, defrag::VersionChange::kDowngrade}) {
    version_change.Add({{"kind", defrag::version_change_name(kind)}}).Set(change == kind ? 1 : 0);
  }
}

void DaemonMetrics::Impl::remove_unwanted() {
  for (auto it = member_series.begin(); it != member_series.end();) {
    if (wanted.contains(it->first)) {
      ++it;
    } else {
      it->first.first->Remove(it->second);
      it = member_series.erase(it);
    }
  }
}

void DaemonMetrics::update_members(const std::vector<etcd::MemberSnapshot>& members,
                                   const std::vector<MemberVerdict>& verdicts) {
  std::lock_guard lock(impl_->mutex);
  auto& m = *impl_;
  m.wanted.clear();
  std::map<std::string, std::pair<std::string, std::uint64_t>> identity;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto& snap = members[i];
    const auto [name, id] = m.identify(snap);
    identity[snap.endpoint] = {name, id};
    const Labels labels{{"member", member_label(name, id, snap.endpoint)},
                        {"member_id", id != 0 ? etcd::member_id_hex(id) : ""},
                        {"endpoint", snap.endpoint}};
    m.set_history_and_health(snap, i < verdicts.size() ? verdicts[i] : MemberVerdict{}, labels);
    if (snap.status) m.set_sizes(snap, labels);
  }
  m.set_version_change(members);
  m.remove_unwanted();
  m.identity = std::move(identity);
}

void DaemonMetrics::record_run(policy::Trigger trigger, const defrag::RunReport& report,
                               std::chrono::system_clock::time_point finished_at) {
  std::lock_guard lock(impl_->mutex);
  auto& m = *impl_;
  m.runs
      .Add({{"trigger", trigger_label(trigger)}, {"result", defrag::outcome_name(report.outcome)}})
      .Increment();
  for (const auto& r : report.members) {
    const auto member = member_label(r.name, r.member_id, r.endpoint);
    m.member_defrags.Add({{"member", member}, {"result", defrag::member_result_name(r.result)}})
        .Increment();
    if (r.no_room) m.no_room_skips.Add({{"member", member}}).Increment();
    if (r.result == defrag::MemberResult::kDefragmented) {
      m.defrag_duration.Add({{"member", member}}, kDefragBuckets)
          .Observe(std::chrono::duration<double>(r.took).count());
    }
  }
  m.reclaimed.Increment(static_cast<double>(report.reclaimed_bytes()));
  m.disarms.Increment(static_cast<double>(report.disarmed.size()));
  m.last_run.Set(std::chrono::duration<double>(finished_at.time_since_epoch()).count());
}

void DaemonMetrics::set_data_dir_free(std::optional<std::uint64_t> bytes) {
  std::lock_guard lock(impl_->mutex);
  auto& m = *impl_;
  if (bytes) {
    if (m.data_dir_free_series == nullptr) m.data_dir_free_series = &m.data_dir_free.Add({});
    m.data_dir_free_series->Set(static_cast<double>(*bytes));
  } else if (m.data_dir_free_series != nullptr) {
    m.data_dir_free.Remove(m.data_dir_free_series);
    m.data_dir_free_series = nullptr;
  }
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

void DaemonMetrics::record_usage_scan(const UsageScanSample& scan) {
  std::lock_guard lock(impl_->mutex);
  impl_->usage.record(scan);
}

void DaemonMetrics::clear_usage_prefixes() {
  std::lock_guard lock(impl_->mutex);
  impl_->usage.clear_prefixes();
}

void DaemonMetrics::set_certificate_expiry(const std::vector<CertificateExpiry>& series) {
  std::lock_guard lock(impl_->mutex);
  auto& m = *impl_;
  for (Gauge* g : m.certificate_series) m.certificate_expiry.Remove(g);
  m.certificate_series.clear();
  for (const auto& c : series) {
    auto& g = m.certificate_expiry.Add(
        {{"certificate", c.certificate}, {"member", c.member}, {"endpoint", c.endpoint}});
    g.Set(static_cast<double>(c.not_after_unix));
    m.certificate_series.push_back(&g);
  }
}

std::string DaemonMetrics::serialize() const {
  // Under the same lock as the updates, so a scrape never sees half a poll.
  std::lock_guard lock(impl_->mutex);
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace edd::metrics
