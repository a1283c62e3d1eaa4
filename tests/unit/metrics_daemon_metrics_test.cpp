#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "metrics/daemon_metrics.h"

using edd::metrics::DaemonMetrics;
using edd::metrics::MemberVerdict;
using edd::policy::Trigger;
namespace etcd = edd::etcd;
namespace defrag = edd::defrag;

namespace {

using LabelMap = std::map<std::string, std::string>;

// `name{k="v",...}` as prometheus-cpp writes it: labels sorted by key, `le` last.
std::string series(const std::string& name, const LabelMap& labels = {},
                   const std::string& le = "") {
  std::string out = name;
  if (labels.empty() && le.empty()) return out;
  std::string inner;
  for (const auto& [k, v] : labels) inner += (inner.empty() ? "" : ",") + k + "=\"" + v + "\"";
  if (!le.empty()) inner += (inner.empty() ? "" : ",") + std::string("le=\"") + le + "\"";
  return out + "{" + inner + "}";
}

// The value of one exact series in the exposition, or nullopt when it is absent.
std::optional<double> value_of(const std::string& text, const std::string& s) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > s.size() && line.compare(0, s.size(), s) == 0 && line[s.size()] == ' ') {
      return std::stod(line.substr(s.size() + 1));
    }
  }
  return std::nullopt;
}

bool mentions(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

etcd::MemberSnapshot member(const std::string& name, std::uint64_t id, const std::string& endpoint,
                            std::int64_t db_size, std::int64_t in_use, std::uint64_t leader_id) {
  etcd::MemberSnapshot m;
  m.endpoint = endpoint;
  m.name = name;
  etcd::MemberStatus s;
  s.endpoint = endpoint;
  s.member_id = id;
  s.leader_id = leader_id;
  s.db_size = db_size;
  s.db_size_in_use = in_use;
  m.status = s;
  m.quota_bytes = 2000;
  m.quota_source = etcd::QuotaSource::kMetrics;
  return m;
}

LabelMap labels_of(const std::string& name, const std::string& id_hex,
                   const std::string& endpoint) {
  return {{"member", name}, {"member_id", id_hex}, {"endpoint", endpoint}};
}

defrag::MemberReport report_member(const std::string& name, defrag::MemberResult result,
                                   std::int64_t before, std::int64_t after,
                                   std::chrono::milliseconds took) {
  defrag::MemberReport r;
  r.name = name;
  r.endpoint = "http://" + name + ":2379";
  r.result = result;
  r.db_size_before = before;
  r.db_size_after = after;
  r.took = took;
  return r;
}

const std::vector<std::string> kContractFamilies = {
    "etcd_defragd_member_db_size_bytes",
    "etcd_defragd_member_db_size_in_use_bytes",
    "etcd_defragd_member_db_size_free_bytes",
    "etcd_defragd_member_db_quota_bytes",
    "etcd_defragd_member_db_quota_usage_ratio",
    "etcd_defragd_member_is_leader",
    "etcd_defragd_member_healthy",
    "etcd_defragd_member_alarm_active",
    "etcd_defragd_member_rule_match",
    "etcd_defragd_member_reclaim_floor_blocked",
    "etcd_defragd_member_reclaim_floor_bytes",
    "etcd_defragd_runs_total",
    "etcd_defragd_member_defrags_total",
    "etcd_defragd_defrag_duration_seconds",
    "etcd_defragd_reclaimed_bytes_total",
    "etcd_defragd_last_run_timestamp_seconds",
    "etcd_defragd_lock_held",
    "etcd_defragd_alarm_disarms_total",
    "etcd_defragd_poll_duration_seconds",
    "etcd_defragd_poll_errors_total",
    "etcd_defragd_webhook_requests_total",
    "etcd_defragd_webhook_unauthorized_total",
    "etcd_defragd_http_connections_rejected_total",
    "etcd_defragd_build_info",
    "etcd_defragd_data_dir_free_bytes",
    "etcd_defragd_member_disk_free_bytes",
    "etcd_defragd_member_no_room_skips_total",
    "etcd_defragd_prefix_keys",
    "etcd_defragd_prefix_value_bytes",
    "etcd_defragd_usage_scan_duration_seconds",
    "etcd_defragd_usage_scan_timestamp_seconds",
    "etcd_defragd_certificate_expiry_timestamp_seconds",
};

}  // namespace

TEST_CASE("metrics export every family of the contract with HELP and TYPE") {
  DaemonMetrics m("0.1.0");
  auto m1 = member("m1", 0xa1, "http://m1:2379", 1000, 400, 0xa1);
  m1.disk_free_bytes = 5'000'000'000;
  m.update_members({m1}, {{true, true}});
  m.set_data_dir_free(5'000'000'000);
  defrag::RunReport run;
  run.members = {report_member("m1", defrag::MemberResult::kDefragmented, 1000, 400,
                               std::chrono::milliseconds(250))};
  m.record_run(Trigger::kRule, run, std::chrono::system_clock::now());
  m.record_poll(std::chrono::milliseconds(20), true);
  m.count_webhook(202);
  m.record_usage_scan({{{"/registry/pods", 3, 300}, {"other", 0, 0}},
                       std::chrono::seconds(2),
                       std::chrono::system_clock::now()});
  m.set_certificate_expiry({{"client", "", "", 1798042200}});
  const auto text = m.serialize();

  for (const auto& family : kContractFamilies) {
    INFO(family);
    CHECK(mentions(text, "# HELP " + family + " "));
    CHECK(mentions(text, "# TYPE " + family + " "));
  }
  CHECK(mentions(text, "# TYPE etcd_defragd_defrag_duration_seconds histogram"));
  CHECK(mentions(text, "# TYPE etcd_defragd_poll_duration_seconds histogram"));
  CHECK(mentions(text, "# TYPE etcd_defragd_runs_total counter"));
  CHECK(mentions(text, "# TYPE etcd_defragd_member_healthy gauge"));
}

TEST_CASE("metrics export the daemon families before any run, poll or member") {
  DaemonMetrics m("0.1.0");
  const auto text = m.serialize();
  CHECK(value_of(text, "etcd_defragd_lock_held") == 0.0);
  CHECK(value_of(text, "etcd_defragd_last_run_timestamp_seconds") == 0.0);
  CHECK(value_of(text, "etcd_defragd_reclaimed_bytes_total") == 0.0);
  CHECK(value_of(text, "etcd_defragd_alarm_disarms_total") == 0.0);
  CHECK(value_of(text, "etcd_defragd_poll_errors_total") == 0.0);
  CHECK(value_of(text, "etcd_defragd_poll_duration_seconds_count") == 0.0);
  // Every trigger x outcome starts at zero so increase() sees the first run.
  for (const char* trigger : {"rule", "alertmanager", "manual"}) {
    for (const char* result : {"success", "failed", "aborted", "dry-run"}) {
      CHECK(value_of(text, series("etcd_defragd_runs_total",
                                  {{"trigger", trigger}, {"result", result}})) == 0.0);
    }
  }
}

TEST_CASE("metrics build_info is 1 and carries the version") {
  DaemonMetrics m("1.2.3-rc1");
  CHECK(value_of(m.serialize(), series("etcd_defragd_build_info", {{"version", "1.2.3-rc1"}})) ==
        1.0);
}

TEST_CASE("metrics per-member values and labels come from the member snapshot") {
  DaemonMetrics m("0.1.0");
  auto leader =
      member("etcd-a", 0x8e9e05c52164694d, "https://10.0.0.1:2379", 1500, 600, 0x8e9e05c52164694d);
  leader.alarms = {etcd::AlarmType::kNoSpace};
  auto follower =
      member("etcd-b", 0x91bc3c398fb3c146, "https://10.0.0.2:2379", 1000, 900, 0x8e9e05c52164694d);
  follower.quota_source = etcd::QuotaSource::kFlag;
  m.update_members({leader, follower}, {{true, true}, {false, false}});
  const auto text = m.serialize();

  const auto a = labels_of("etcd-a", "8e9e05c52164694d", "https://10.0.0.1:2379");
  const auto b = labels_of("etcd-b", "91bc3c398fb3c146", "https://10.0.0.2:2379");
  CHECK(value_of(text, series("etcd_defragd_member_db_size_bytes", a)) == 1500.0);
  CHECK(value_of(text, series("etcd_defragd_member_db_size_in_use_bytes", a)) == 600.0);
  CHECK(value_of(text, series("etcd_defragd_member_db_size_free_bytes", a)) == 900.0);
  CHECK(value_of(text, series("etcd_defragd_member_db_quota_bytes", a)) == 2000.0);
  CHECK(value_of(text, series("etcd_defragd_member_db_quota_usage_ratio", a)) == Approx(0.75));
  CHECK(value_of(text, series("etcd_defragd_member_is_leader", a)) == 1.0);
  CHECK(value_of(text, series("etcd_defragd_member_is_leader", b)) == 0.0);
  CHECK(value_of(text, series("etcd_defragd_member_healthy", a)) == 1.0);
  CHECK(value_of(text, series("etcd_defragd_member_healthy", b)) == 0.0);
  CHECK(value_of(text, series("etcd_defragd_member_rule_match", a)) == 1.0);
  CHECK(value_of(text, series("etcd_defragd_member_rule_match", b)) == 0.0);

  auto with = [](LabelMap l, const std::string& k, const std::string& v) {
    l[k] = v;
    return l;
  };
  CHECK(value_of(text, series("etcd_defragd_member_alarm_active", with(a, "alarm", "NOSPACE"))) ==
        1.0);
  CHECK(value_of(text, series("etcd_defragd_member_alarm_active", with(a, "alarm", "CORRUPT"))) ==
        0.0);
  CHECK(value_of(text, series("etcd_defragd_member_alarm_active", with(b, "alarm", "NOSPACE"))) ==
        0.0);
  CHECK(value_of(text, series("etcd_defragd_member_quota_source", with(a, "source", "metrics"))) ==
        1.0);
  CHECK(value_of(text, series("etcd_defragd_member_quota_source", with(b, "source", "flag"))) ==
        1.0);
}

TEST_CASE("metrics update values of a member in place from poll to poll") {
  DaemonMetrics m("0.1.0");
  m.update_members({member("m1", 0xa1, "http://m1:2379", 1000, 400, 0xa1)}, {{true, true}});
  m.update_members({member("m1", 0xa1, "http://m1:2379", 500, 400, 0xa1)}, {{true, false}});
  const auto text = m.serialize();
  const auto l = labels_of("m1", "a1", "http://m1:2379");
  CHECK(value_of(text, series("etcd_defragd_member_db_size_bytes", l)) == 500.0);
  CHECK(value_of(text, series("etcd_defragd_member_rule_match", l)) == 0.0);
}

TEST_CASE("metrics drop the series of a member removed from the view") {
  DaemonMetrics m("0.1.0");
  m.update_members({member("m1", 0xa1, "http://m1:2379", 1000, 400, 0xa1),
                    member("m2", 0xa2, "http://m2:2379", 1000, 400, 0xa1)},
                   {{true, true}, {true, true}});
  REQUIRE(mentions(m.serialize(), "member=\"m2\""));

  m.update_members({member("m1", 0xa1, "http://m1:2379", 1000, 400, 0xa1)}, {{true, true}});
  const auto text = m.serialize();
  // Every per-member gauge of m2 is gone (its endpoint appears nowhere); its run history
  // (member_defrags_total, defrag_duration_seconds, labelled by member only) stays.
  CHECK_FALSE(mentions(text, "http://m2:2379"));
  CHECK_FALSE(mentions(text, "member_id=\"a2\""));
  CHECK(mentions(text, "etcd_defragd_member_defrags_total{member=\"m2\""));
  CHECK(value_of(text, series("etcd_defragd_member_db_size_bytes",
                              labels_of("m1", "a1", "http://m1:2379"))) == 1000.0);
}

TEST_CASE("metrics start each member's defrag history at zero so increase() sees the first one") {
  DaemonMetrics m("0.1.0");
  m.update_members({member("m1", 0xa1, "http://m1:2379", 1000, 400, 0xa1)}, {{true, true}});
  const auto text = m.serialize();
  CHECK(
      mentions(text, "etcd_defragd_member_defrags_total{member=\"m1\",result=\"defragmented\"} 0"));
  CHECK(mentions(text, "etcd_defragd_defrag_duration_seconds_count{member=\"m1\"} 0"));
  CHECK(mentions(text, "etcd_defragd_webhook_requests_total{code=\"401\"} 0"));
}

TEST_CASE("metrics drop the old series of a member whose endpoint changed") {
  DaemonMetrics m("0.1.0");
  m.update_members({member("m1", 0xa1, "http://10.0.0.1:2379", 1000, 400, 0xa1)}, {{true, true}});
  m.update_members({member("m1", 0xa1, "http://10.0.0.9:2379", 1000, 400, 0xa1)}, {{true, true}});
  const auto text = m.serialize();
  CHECK_FALSE(mentions(text, "10.0.0.1"));
  CHECK(value_of(text, series("etcd_defragd_member_healthy",
                              labels_of("m1", "a1", "http://10.0.0.9:2379"))) == 1.0);
}

TEST_CASE("metrics keep the labels of a member that stops answering and mark it unhealthy") {
  DaemonMetrics m("0.1.0");
  m.update_members({member("m1", 0xa1, "http://m1:2379", 1000, 400, 0xa1)}, {{true, true}});

  etcd::MemberSnapshot down;
  down.endpoint = "http://m1:2379";
  down.error = "connection refused";  // no status, no name: both unknown this poll
  m.update_members({down}, {{false, std::nullopt}});
  const auto text = m.serialize();
  const auto l = labels_of("m1", "a1", "http://m1:2379");
  CHECK(value_of(text, series("etcd_defragd_member_healthy", l)) == 0.0);
  // Its sizes are unknown now, not stale; nor is the rule's verdict.
  CHECK_FALSE(mentions(text, "etcd_defragd_member_db_size_bytes{"));
  CHECK_FALSE(mentions(text, "etcd_defragd_member_rule_match{"));
}

TEST_CASE("metrics take a member without a verdict as unhealthy") {
  DaemonMetrics m("0.1.0");
  m.update_members({member("m1", 0xa1, "http://m1:2379", 1000, 400, 0xa1)}, {});
  const auto text = m.serialize();
  CHECK(value_of(text, series("etcd_defragd_member_healthy",
                              labels_of("m1", "a1", "http://m1:2379"))) == 0.0);
  CHECK_FALSE(mentions(text, "etcd_defragd_member_rule_match{"));
}

TEST_CASE("metrics show an unknown alarm only while it is raised") {
  DaemonMetrics m("0.1.0");
  auto m1 = member("m1", 0xa1, "http://m1:2379", 1000, 400, 0xa1);
  m1.alarms = {etcd::AlarmType::kUnknown};
  m.update_members({m1}, {{true, true}});
  CHECK(mentions(m.serialize(), "alarm=\"UNKNOWN\""));
  m1.alarms.clear();
  m.update_members({m1}, {{true, true}});
  CHECK_FALSE(mentions(m.serialize(), "alarm=\"UNKNOWN\""));
}

TEST_CASE("metrics record_run counts the run, each member, the time, the bytes and disarms") {
  DaemonMetrics m("0.1.0");
  defrag::RunReport run;
  run.outcome = defrag::Outcome::kFailed;
  run.members = {
      report_member("m1", defrag::MemberResult::kDefragmented, 1000, 300,
                    std::chrono::milliseconds(70)),
      report_member("m2", defrag::MemberResult::kDefragmented, 2000, 1500,
                    std::chrono::milliseconds(3000)),
      report_member("m3", defrag::MemberResult::kFailed, 900, 900, std::chrono::milliseconds(5)),
  };
  run.disarmed = {{0xa1, etcd::AlarmType::kNoSpace}, {0xa2, etcd::AlarmType::kNoSpace}};
  const auto finished = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  m.record_run(Trigger::kWebhook, run, finished);
  m.record_run(Trigger::kWebhook, run, finished + std::chrono::seconds(60));
  const auto text = m.serialize();

  CHECK(value_of(text, series("etcd_defragd_runs_total",
                              {{"trigger", "alertmanager"}, {"result", "failed"}})) == 2.0);
  CHECK(value_of(text, series("etcd_defragd_runs_total",
                              {{"trigger", "alertmanager"}, {"result", "success"}})) == 0.0);
  CHECK(value_of(text, series("etcd_defragd_runs_total",
                              {{"trigger", "rule"}, {"result", "failed"}})) == 0.0);
  CHECK(value_of(text, series("etcd_defragd_member_defrags_total",
                              {{"member", "m1"}, {"result", "defragmented"}})) == 2.0);
  CHECK(value_of(text, series("etcd_defragd_member_defrags_total",
                              {{"member", "m3"}, {"result", "failed"}})) == 2.0);
  CHECK(value_of(text, "etcd_defragd_reclaimed_bytes_total") == 2.0 * (700 + 500));
  CHECK(value_of(text, "etcd_defragd_alarm_disarms_total") == 4.0);
  CHECK(value_of(text, "etcd_defragd_last_run_timestamp_seconds") == 1'700'000'060.0);

  // Only successful Defragment calls are timed: 70 ms and 3 s, twice each.
  CHECK(value_of(text, series("etcd_defragd_defrag_duration_seconds_count", {{"member", "m1"}})) ==
        2.0);
  CHECK(value_of(text, series("etcd_defragd_defrag_duration_seconds_sum", {{"member", "m2"}})) ==
        Approx(6.0));
  CHECK(value_of(text, series("etcd_defragd_defrag_duration_seconds_bucket", {{"member", "m1"}},
                              "0.05")) == 0.0);
  CHECK(value_of(text, series("etcd_defragd_defrag_duration_seconds_bucket", {{"member", "m1"}},
                              "0.1")) == 2.0);
  CHECK(value_of(text, series("etcd_defragd_defrag_duration_seconds_bucket", {{"member", "m2"}},
                              "900")) == 2.0);
  CHECK_FALSE(mentions(text, "etcd_defragd_defrag_duration_seconds_count{member=\"m3\"}"));
}

TEST_CASE("metrics name a report member without a name by its hex ID") {
  DaemonMetrics m("0.1.0");
  defrag::RunReport run;
  auto r = report_member("", defrag::MemberResult::kSkipped, 10, 10, {});
  r.member_id = 0xbeef;
  run.members = {r};
  m.record_run(Trigger::kManual, run, std::chrono::system_clock::time_point{});
  CHECK(value_of(m.serialize(), series("etcd_defragd_member_defrags_total",
                                       {{"member", "beef"}, {"result", "skipped"}})) == 1.0);
}

TEST_CASE("metrics record polls, poll errors, the lock and webhook answers") {
  DaemonMetrics m("0.1.0");
  m.record_poll(std::chrono::milliseconds(20), true);
  m.record_poll(std::chrono::milliseconds(2000), false);
  m.set_lock_held(true);
  m.count_webhook(202);
  m.count_webhook(401);
  m.count_webhook(401);
  auto text = m.serialize();
  CHECK(value_of(text, "etcd_defragd_poll_duration_seconds_count") == 2.0);
  CHECK(value_of(text, "etcd_defragd_poll_duration_seconds_sum") == Approx(2.02));
  CHECK(value_of(text, series("etcd_defragd_poll_duration_seconds_bucket", {}, "0.025")) == 1.0);
  CHECK(value_of(text, "etcd_defragd_poll_errors_total") == 1.0);
  CHECK(value_of(text, "etcd_defragd_lock_held") == 1.0);
  CHECK(value_of(text, series("etcd_defragd_webhook_requests_total", {{"code", "202"}})) == 1.0);
  CHECK(value_of(text, series("etcd_defragd_webhook_requests_total", {{"code", "401"}})) == 2.0);
  m.set_lock_held(false);
  CHECK(value_of(m.serialize(), "etcd_defragd_lock_held") == 0.0);
}

TEST_CASE("metrics serialize safely while another thread adds and removes members") {
  DaemonMetrics m("0.1.0");
  std::thread poller([&m] {
    for (int i = 0; i < 300; ++i) {
      const auto endpoint = "http://m" + std::to_string(i % 7) + ":2379";
      m.update_members({member("m", 0xa1, endpoint, i, 0, 0xa1)}, {{true, i % 2 == 0}});
      m.record_poll(std::chrono::milliseconds(i), i % 3 != 0);
    }
  });
  std::size_t scraped = 0;
  for (int i = 0; i < 300; ++i) scraped += m.serialize().size();
  poller.join();
  CHECK(scraped > 0);
  // Only the last view's member (i = 299: m5) is left.
  CHECK(mentions(m.serialize(), "endpoint=\"http://m5:2379\""));
  CHECK_FALSE(mentions(m.serialize(), "endpoint=\"http://m4:2379\""));
}

TEST_CASE("metrics name each member's known defrag bugs and a version change in progress") {
  DaemonMetrics m("1.0");
  auto a = member("a", 0xa, "http://a:2379", 100, 50, 0xa);
  auto b = member("b", 0xb, "http://b:2379", 100, 50, 0xa);
  a.status->version = "3.6.4";
  b.status->version = "3.6.16";
  m.update_members({a, b}, {MemberVerdict{true, false}, MemberVerdict{true, false}});
  std::string text = m.serialize();
  INFO(text);
  CHECK(
      value_of(text, series("etcd_defragd_member_known_defrag_bug", {{"member", "a"},
                                                                     {"member_id", "a"},
                                                                     {"endpoint", "http://a:2379"},
                                                                     {"version", "3.6.4"},
                                                                     {"issue", "etcd#20653"},
                                                                     {"fixed_in", "3.6.5"}})) == 1);
  CHECK_FALSE(mentions(text, "etcd_defragd_member_known_defrag_bug{endpoint=\"http://b:2379\""));
  CHECK(value_of(text, series("etcd_defragd_version_change_in_progress", {{"kind", "upgrade"}})) ==
        0);
  CHECK(value_of(text,
                 series("etcd_defragd_version_change_in_progress", {{"kind", "downgrade"}})) == 0);

  // b on another minor version: an upgrade in progress; a upgraded past the bug: series gone.
  a.status->version = "3.6.16";
  b.status->version = "3.7.3";
  m.update_members({a, b}, {MemberVerdict{true, false}, MemberVerdict{true, false}});
  text = m.serialize();
  CHECK_FALSE(mentions(text, "etcd_defragd_member_known_defrag_bug{"));
  CHECK(value_of(text, series("etcd_defragd_version_change_in_progress", {{"kind", "upgrade"}})) ==
        1);
}

TEST_CASE("metrics count the listener's refusals and the 401s by reason, each from zero") {
  DaemonMetrics m("0.1.0");
  const auto before = m.serialize();
  for (const char* reason : {"listener_full", "per_address_limit", "evicted_incomplete",
                             "head_timeout", "request_timeout", "tls_handshake_timeout"}) {
    INFO(reason);
    CHECK(value_of(before, series("etcd_defragd_http_connections_rejected_total",
                                  {{"reason", reason}})) == 0.0);
  }
  for (const char* reason : {"missing_token", "wrong_token"}) {
    CHECK(value_of(before,
                   series("etcd_defragd_webhook_unauthorized_total", {{"reason", reason}})) == 0.0);
  }
  for (int i = 0; i < 3; ++i) m.count_http_connection_rejected("evicted_incomplete");
  m.count_http_connection_rejected("head_timeout");
  m.count_unauthorized("wrong_token");
  const auto after = m.serialize();
  CHECK(value_of(after, series("etcd_defragd_http_connections_rejected_total",
                               {{"reason", "evicted_incomplete"}})) == 3.0);
  CHECK(value_of(after, series("etcd_defragd_http_connections_rejected_total",
                               {{"reason", "head_timeout"}})) == 1.0);
  CHECK(value_of(after, series("etcd_defragd_webhook_unauthorized_total",
                               {{"reason", "wrong_token"}})) == 1.0);
  CHECK(value_of(after, series("etcd_defragd_webhook_unauthorized_total",
                               {{"reason", "missing_token"}})) == 0.0);
}

TEST_CASE("metrics show each member's published disk room and count the runs' no-room skips") {
  DaemonMetrics m("0.1.0");
  auto m1 = member("m1", 0xa1, "http://m1:2379", 1000, 400, 0xa1);
  m1.disk_free_bytes = 123'000'000;
  const auto m2 = member("m2", 0xa2, "http://m2:2379", 1000, 400, 0xa1);
  m.update_members({m1, m2}, {{true, true}, {true, true}});
  m.set_data_dir_free(123'000'000);
  auto text = m.serialize();
  const auto disk = [](const LabelMap& l) {
    return series("etcd_defragd_member_disk_free_bytes", l);
  };
  CHECK(value_of(text, disk(labels_of("m1", "a1", "http://m1:2379"))) == 123e6);
  CHECK_FALSE(value_of(text, disk(labels_of("m2", "a2", "http://m2:2379"))));
  CHECK(value_of(text, "etcd_defragd_data_dir_free_bytes") == 123e6);
  // From zero per member, so increase() sees the first skip.
  const auto skips = [](const std::string& name) {
    return series("etcd_defragd_member_no_room_skips_total", {{"member", name}});
  };
  CHECK(value_of(text, skips("m2")) == 0);

  defrag::RunReport run;
  auto r = report_member("m2", defrag::MemberResult::kSkipped, 1000, 0, {});
  r.no_room = true;
  run.members = {r, report_member("m1", defrag::MemberResult::kSkipped, 1000, 0, {})};
  m.record_run(Trigger::kRule, run, std::chrono::system_clock::now());
  // The unreadable data directory and the member gone: their series go too.
  m1.disk_free_bytes.reset();
  m.update_members({m1}, {{true, true}});
  m.set_data_dir_free(std::nullopt);
  text = m.serialize();
  CHECK(value_of(text, skips("m2")) == 1);
  CHECK(value_of(text, skips("m1")) == 0);
  CHECK(value_of(text, series("etcd_defragd_member_defrags_total",
                              {{"member", "m2"}, {"result", "skipped"}})) == 1);
  CHECK_FALSE(value_of(text, disk(labels_of("m1", "a1", "http://m1:2379"))));
  CHECK_FALSE(value_of(text, "etcd_defragd_data_dir_free_bytes"));
}

TEST_CASE("metrics say per member whether the reclaim floor holds back a rule that fires") {
  DaemonMetrics m("0.1.0");
  MemberVerdict held{true, true};
  held.reclaim_floor_blocked = true;
  held.reclaim_floor_bytes = 40;
  MemberVerdict quiet{true, false};
  quiet.reclaim_floor_blocked = false;
  quiet.reclaim_floor_bytes = 40;
  m.update_members({member("m1", 0xa1, "http://m1:2379", 1000, 990, 0xa1),
                    member("m2", 0xa2, "http://m2:2379", 1000, 400, 0xa1),
                    member("m3", 0xa3, "http://m3:2379", 1000, 400, 0xa1)},
                   {held, quiet, {true, std::nullopt}});
  const auto text = m.serialize();
  const auto m1 = labels_of("m1", "a1", "http://m1:2379");
  const auto m2 = labels_of("m2", "a2", "http://m2:2379");
  CHECK(value_of(text, series("etcd_defragd_member_reclaim_floor_blocked", m1)) == 1.0);
  CHECK(value_of(text, series("etcd_defragd_member_rule_match", m1)) == 1.0);  // unchanged
  CHECK(value_of(text, series("etcd_defragd_member_reclaim_floor_blocked", m2)) == 0.0);
  CHECK(value_of(text, series("etcd_defragd_member_reclaim_floor_bytes", m1)) == 40.0);
  // No verdict, no series: like rule_match.
  CHECK_FALSE(mentions(text, "etcd_defragd_member_reclaim_floor_blocked{endpoint=\"http://m3"));
  // A verdict without the floor's means no floor.
  m.update_members({member("m1", 0xa1, "http://m1:2379", 1000, 990, 0xa1)}, {{true, true}});
  const auto later = m.serialize();
  CHECK(value_of(later, series("etcd_defragd_member_reclaim_floor_blocked", m1)) == 0.0);
  CHECK(value_of(later, series("etcd_defragd_member_reclaim_floor_bytes", m1)) == 0.0);
}

TEST_CASE("metrics certificate expiry series are replaced as a whole, gone members removed") {
  DaemonMetrics m("0.1.0");
  m.set_certificate_expiry({{"client", "", "", 1798042200},
                            {"server", "m1", "https://m1:2379", 1797610200},
                            {"server", "m2", "https://m2:2379", 1797696600}});
  auto text = m.serialize();
  const std::string name = "etcd_defragd_certificate_expiry_timestamp_seconds";
  CHECK(
      value_of(text, series(name, {{"certificate", "client"}, {"endpoint", ""}, {"member", ""}})) ==
      1798042200.0);
  CHECK(value_of(text, series(name, {{"certificate", "server"},
                                     {"endpoint", "https://m1:2379"},
                                     {"member", "m1"}})) == 1797610200.0);
  m.set_certificate_expiry(
      {{"client", "", "", 1798042200}, {"server", "m1", "https://m1:2379", 1797610200}});
  text = m.serialize();
  CHECK_FALSE(mentions(text, "https://m2:2379"));
  CHECK(mentions(text, "https://m1:2379"));
}
