// End to end with the real servers (Debian's prometheus and prometheus-alertmanager): three
// `etcd-defragd run` daemons on a real 3-member etcd cluster, scraped by Prometheus with the
// shipped rules; every Grafana panel query returns data; a quota alert goes through Alertmanager
// to the webhook and exactly one daemon defragments. Every server is stopped by PID.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness/test_record.h"
#include "support/clocks.h"
#include "support/cluster_checks.h"
#include "support/daemon_process.h"
#include "support/files.h"
#include "support/loopback.h"

using namespace edd::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// One condition on a loaded 2-core machine: a scrape, an evaluation, a notification and a poll
// are each 1 s apart, but the machine may be slow.
constexpr std::chrono::milliseconds kWait = 90s;

// Prometheus and Alertmanager are asked at most four times a second.
template <class Cond>
bool wait_until(std::chrono::milliseconds timeout, Cond&& cond) {
  return eventually(timeout, std::forward<Cond>(cond), 250ms);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

std::string tail(const std::string& text, std::size_t bytes = 4000) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

// A secret file the way the daemon's loader wants it: one line, mode 0600.
std::string write_secret(const std::string& path, const std::string& token) {
  write_text(path, token + "\n");
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path;
}

CommandResult curl(std::vector<std::string> args, const std::string& stdin_data = "") {
  args.insert(args.begin(), {"curl", "-sS", "--max-time", "10"});
  return run_command(args, 20s, {}, stdin_data);
}

int http_code(const CommandResult& r) {
  try {
    return r.exit_code == 0 ? std::stoi(r.out) : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

// Prometheus or Alertmanager on a free loopback port, stopped by PID (SIGTERM, then SIGKILL)
// when destroyed.
class Server {
 public:
  using MakeArgv = std::function<std::vector<std::string>(const std::string& listen)>;

  Server(std::string name, std::string log, const MakeArgv& make_argv)
      : name_(std::move(name)), log_(std::move(log)) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_loopback_port();
      pid_ = spawn_process(make_argv("127.0.0.1:" + std::to_string(port_)), log_);
      if (wait_ready()) return;
      stop();
      if (read_file(log_).find("address already in use") == std::string::npos) break;
    }
    throw std::runtime_error(name_ + " did not become ready:\n" + tail(read_file(log_)));
  }
  ~Server() { stop(); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return read_file(log_); }

  // GET path with URL-encoded parameters; null when the answer is not JSON.
  json::value get(const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& params = {}) const {
    std::vector<std::string> args{"-G", url() + path};
    for (const auto& [key, value] : params) {
      args.push_back("--data-urlencode");
      args.push_back(key + "=" + value);
    }
    const CommandResult r = curl(args);
    boost::system::error_code ec;
    json::value v = json::parse(r.out, ec);
    return ec ? json::value() : v;
  }

 private:
  bool wait_ready() {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (wait_for_exit(pid_, 0ms)) {
        pid_ = 0;
        return false;
      }
      if (http_code(curl({"-o", "/dev/null", "-w", "%{http_code}", url() + "/-/ready"})) == 200) {
        return true;
      }
      std::this_thread::sleep_for(250ms);
    }
    return false;
  }
  void stop() {
    if (pid_ == 0) return;
    stop_processes({pid_}, 10s);
    pid_ = 0;
  }

  std::string name_, log_;
  int port_ = 0;
  pid_t pid_ = 0;
};

using Daemons = std::vector<std::unique_ptr<DaemonProcess>>;

const std::string kRulesFile = EDD_SOURCE_DIR "/dashboards/prometheus/etcd-defragd.rules.yml";
const std::string kDashboardFile = EDD_SOURCE_DIR "/dashboards/grafana/etcd-defragd.json";

std::size_t alert_rule_count(const std::string& rules_yaml) {
  std::size_t n = 0;
  std::istringstream lines(rules_yaml);
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, 8, "- alert:") == 0) ++n;
  }
  return n;
}

// The shipped rules with every `for:` shortened, so alerts fire within seconds.
std::string write_short_rules(const std::string& path) {
  std::istringstream lines(read_file(kRulesFile));
  std::string out;
  int replaced = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, 4, "for:") == 0) {
      line = line.substr(0, first) + "for: 2s";
      ++replaced;
    }
    out += line + "\n";
  }
  if (replaced == 0) throw std::runtime_error("no `for:` in " + kRulesFile);
  write_text(path, out);
  return path;
}

std::string prometheus_config(const Daemons& daemons, const std::string& rules_file,
                              const std::string& alertmanager = "") {
  std::ostringstream y;
  y << "global:\n"
    << "  scrape_interval: 1s\n"
    << "  scrape_timeout: 1s\n"
    << "  evaluation_interval: 1s\n"
    << "rule_files:\n"
    << "  - " << rules_file << "\n";
  if (!alertmanager.empty()) {
    y << "alerting:\n"
      << "  alertmanagers:\n"
      << "    - static_configs:\n"
      << "        - targets: ['" << alertmanager << "']\n";
  }
  y << "scrape_configs:\n"
    << "  - job_name: etcd-defragd\n"
    << "    static_configs:\n"
    << "      - targets:\n";
  for (const auto& d : daemons) y << "          - 127.0.0.1:" << d->port() << "\n";
  y << "        labels:\n"
    << "          cluster: e2e\n";
  return y.str();
}

std::unique_ptr<Server> start_prometheus(const std::string& dir, const std::string& config) {
  std::filesystem::create_directories(dir + "/tsdb");
  write_text(dir + "/prometheus.yml", config);
  return std::make_unique<Server>("prometheus", dir + "/prometheus.log", [dir](const auto& listen) {
    return std::vector<std::string>{
        "/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
        "--storage.tsdb.path=" + dir + "/tsdb", "--web.listen-address=" + listen};
  });
}

// A route for the alerts with remediation="etcd-defrag" to the three daemons' webhook, the way
// config/alertmanager.example.yml does it, with intervals of a second.
std::string alertmanager_config(const Daemons& daemons, const std::string& credentials_file) {
  std::ostringstream y;
  y << "route:\n"
    << "  receiver: default\n"
    << "  group_by: [alertname, cluster]\n"
    << "  group_wait: 1s\n"
    << "  group_interval: 1s\n"
    << "  repeat_interval: 1m\n"
    << "  routes:\n"
    << "    - receiver: etcd-defragd\n"
    << "      matchers:\n"
    << "        - remediation=\"etcd-defrag\"\n"
    << "      group_by: [cluster]\n"
    << "      group_wait: 1s\n"
    << "      group_interval: 1s\n"
    << "      repeat_interval: 1m\n"
    << "receivers:\n"
    << "  - name: default\n"
    << "  - name: etcd-defragd\n"
    << "    webhook_configs:\n";
  for (const auto& d : daemons) {
    y << "      - url: http://127.0.0.1:" << d->port() << "/v1/alertmanager\n"
      << "        send_resolved: true\n"
      << "        http_config:\n"
      << "          authorization:\n"
      << "            type: Bearer\n"
      << "            credentials_file: " << credentials_file << "\n";
  }
  return y.str();
}

std::unique_ptr<Server> start_alertmanager(const std::string& dir, const std::string& config) {
  std::filesystem::create_directories(dir + "/data");
  write_text(dir + "/alertmanager.yml", config);
  return std::make_unique<Server>(
      "alertmanager", dir + "/alertmanager.log", [dir](const auto& listen) {
        return std::vector<std::string>{
            "/usr/bin/prometheus-alertmanager", "--config.file=" + dir + "/alertmanager.yml",
            "--storage.path=" + dir + "/data", "--web.listen-address=" + listen,
            "--cluster.listen-address="};
      });
}

std::string host_port(const Server& s) { return s.url().substr(std::string("http://").size()); }

// One answer of /api/v1/query or /api/v1/query_range, summarised.
struct QueryResult {
  std::string status;  // "success", "error", or "" when Prometheus did not answer
  std::string error;
  std::size_t series = 0;
  std::vector<double> values;  // the last value of each series (every value for a scalar)
  std::string text;            // for messages
};

QueryResult summarise(const json::value& answer) {
  QueryResult q;
  if (!answer.is_object()) return q;
  const json::object& o = answer.get_object();
  if (const auto* s = o.if_contains("status"); s && s->is_string()) q.status = s->get_string();
  if (const auto* e = o.if_contains("error"); e && e->is_string()) q.error = e->get_string();
  const json::value* data = o.if_contains("data");
  if (data == nullptr || !data->is_object()) return q;
  const std::string type(data->at("resultType").as_string());
  const json::value& result = data->at("result");
  auto number = [](const json::value& v) { return std::stod(std::string(v.as_string())); };
  if (type == "scalar" || type == "string") {
    q.series = 1;
    q.values.push_back(type == "scalar" ? number(result.as_array().at(1)) : 0.0);
  } else {
    for (const json::value& s : result.as_array()) {
      ++q.series;
      const json::object& so = s.as_object();
      if (const auto* v = so.if_contains("value")) {
        q.values.push_back(number(v->as_array().at(1)));
      } else if (const auto* vs = so.if_contains("values"); vs && !vs->as_array().empty()) {
        q.values.push_back(number(vs->as_array().back().as_array().at(1)));
      }
    }
  }
  q.text = json::serialize(result);
  if (q.text.size() > 600) q.text = q.text.substr(0, 600) + "...";
  return q;
}

QueryResult query(const Server& prom, const std::string& expr) {
  return summarise(prom.get("/api/v1/query", {{"query", expr}}));
}

QueryResult query_range(const Server& prom, const std::string& expr, double start, double end,
                        const std::string& step) {
  return summarise(prom.get("/api/v1/query_range", {{"query", expr},
                                                    {"start", std::to_string(start)},
                                                    {"end", std::to_string(end)},
                                                    {"step", step}}));
}

// The value of a query that returns one series; nullopt when it returns none.
std::optional<double> value_of(const Server& prom, const std::string& expr) {
  const QueryResult q = query(prom, expr);
  if (q.status != "success" || q.values.size() != 1) return std::nullopt;
  return q.values.front();
}

// Grafana's variables as a dashboard user with "All" selected would see them.
std::string substitute(std::string expr) {
  const std::pair<std::string, std::string> vars[] = {{"__rate_interval", "1m"},
                                                      {"__interval", "15s"},
                                                      {"__range", "5m"},
                                                      {"cluster", ".*"},
                                                      {"member", ".*"}};
  for (const auto& [name, value] : vars) {
    for (const std::string& form : {"${" + name + "}", "$" + name}) {
      for (auto at = expr.find(form); at != std::string::npos; at = expr.find(form, at)) {
        expr.replace(at, form.size(), value);
        at += value.size();
      }
    }
  }
  return expr;
}

struct DashboardQuery {
  std::string where;  // "panel <title> / <refId>" or "annotation <name>"
  std::string expr;   // variables substituted
  bool annotation = false;
};

void collect_panels(const json::array& panels, std::vector<DashboardQuery>& out) {
  for (const json::value& p : panels) {
    const json::object& po = p.as_object();
    const std::string title =
        po.contains("title") ? std::string(po.at("title").as_string()) : std::string("?");
    if (const auto* targets = po.if_contains("targets")) {
      for (const json::value& t : targets->as_array()) {
        const json::object& to = t.as_object();
        if (!to.contains("expr")) continue;
        const std::string ref =
            to.contains("refId") ? std::string(to.at("refId").as_string()) : std::string("?");
        out.push_back({"panel '" + title + "' " + ref,
                       substitute(std::string(to.at("expr").as_string())), false});
      }
    }
    if (const auto* nested = po.if_contains("panels")) collect_panels(nested->as_array(), out);
  }
}

std::vector<DashboardQuery> dashboard_queries() {
  const json::value d = parse_json(read_file(kDashboardFile));
  std::vector<DashboardQuery> out;
  collect_panels(d.at("panels").as_array(), out);
  for (const json::value& a : d.at("annotations").at("list").as_array()) {
    const json::object& ao = a.as_object();
    if (!ao.contains("expr")) continue;  // Grafana's built-in annotations
    out.push_back({"annotation '" + std::string(ao.at("name").as_string()) + "'",
                   substitute(std::string(ao.at("expr").as_string())), true});
  }
  return out;
}

const std::string kQuotaAlerts = "EtcdDefragdQuotaUsage";

// "firing" when a quota alert fires in Prometheus, "pending" when one waits for its `for:`, ""
// when none is active.
std::string quota_alert_state(const Server& prom) {
  const json::value a = prom.get("/api/v1/alerts");
  if (!a.is_object() || !a.as_object().contains("data")) return "?";
  std::string state;
  for (const json::value& alert : a.at("data").at("alerts").as_array()) {
    const std::string name(alert.at("labels").at("alertname").as_string());
    if (name.rfind(kQuotaAlerts, 0) != 0) continue;
    const std::string s(alert.at("state").as_string());
    if (s == "firing" || state.empty()) state = s;
  }
  return state;
}

bool alert_firing(const Server& prom, const std::string& alertname) {
  const json::value a = prom.get("/api/v1/alerts");
  if (!a.is_object() || !a.as_object().contains("data")) return false;
  for (const json::value& alert : a.at("data").at("alerts").as_array()) {
    if (alert.at("labels").at("alertname").as_string() == alertname &&
        alert.at("state").as_string() == "firing") {
      return true;
    }
  }
  return false;
}

// The quota alert fired, seen live in /api/v1/alerts or, if the whole cycle was faster than our
// polling, in Prometheus's own ALERTS history.
bool quota_alert_fired(const Server& prom) {
  if (quota_alert_state(prom) == "firing") return true;
  const QueryResult history = query(prom, "max_over_time(ALERTS{alertname=~\"" + kQuotaAlerts +
                                              ".*\",alertstate=\"firing\"}[10m])");
  return history.series > 0;
}

// Waits until Prometheus has evaluated every alert rule, then checks each is healthy.
void check_rules_healthy(const Server& prom, std::size_t expected_rules) {
  json::value rules;
  auto evaluated = [&] {
    rules = prom.get("/api/v1/rules", {{"type", "alert"}});
    if (!rules.is_object() || !rules.as_object().contains("data")) return false;
    std::size_t n = 0;
    for (const json::value& g : rules.at("data").at("groups").as_array()) {
      for (const json::value& r : g.at("rules").as_array()) {
        if (r.at("health").as_string() == "unknown") return false;
        ++n;
      }
    }
    return n == expected_rules;
  };
  INFO("rules: " << json::serialize(rules));
  REQUIRE(wait_until(kWait, evaluated));
  for (const json::value& g : rules.at("data").at("groups").as_array()) {
    for (const json::value& r : g.at("rules").as_array()) {
      const json::object& ro = r.as_object();
      INFO("rule " << ro.at("name").as_string() << ": " << json::serialize(r));
      CHECK(ro.at("health").as_string() == "ok");
      CHECK((!ro.contains("lastError") || ro.at("lastError").as_string().empty()));
    }
  }
}

// An Alertmanager notification (version 4) with one alert, as the webhook receiver gets it.
std::string alertmanager_payload(const std::string& status) {
  json::object labels{{"alertname", "EtcdDefragdQuotaUsageHigh"},
                      {"cluster", "e2e"},
                      {"remediation", "etcd-defrag"}};
  json::object alert{{"status", status},
                     {"labels", labels},
                     {"annotations", json::object{}},
                     {"startsAt", "2024-01-01T00:00:00Z"},
                     {"endsAt", "2024-01-01T00:05:00Z"},
                     {"generatorURL", ""},
                     {"fingerprint", "0123456789abcdef"}};
  return json::serialize(
      json::object{{"version", "4"},
                   {"groupKey", "{}/{remediation=\"etcd-defrag\"}:{cluster=\"e2e\"}"},
                   {"truncatedAlerts", 0},
                   {"status", status},
                   {"receiver", "etcd-defragd"},
                   {"groupLabels", json::object{{"cluster", "e2e"}}},
                   {"commonLabels", labels},
                   {"commonAnnotations", json::object{}},
                   {"externalURL", "http://127.0.0.1:9093"},
                   {"alerts", json::array{alert}}});
}

int post(const DaemonProcess& d, const std::string& path, const std::string& token,
         const std::string& body = "") {
  return http_code(
      curl({"-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H",
            "Authorization: Bearer " + token, "-H", "Content-Type: application/json",
            "--data-binary", "@-", "http://127.0.0.1:" + std::to_string(d.port()) + path},
           body));
}

// Overwrites one key with 1 MiB values until the database file of the member furthest ahead is
// at `fraction` of the quota (the others lag a few MiB: each member's bbolt allocates pages its
// own way), then compacts: the files keep their size (only a defrag gives it back) while the data
// in use falls to one value. Stops well before NOSPACE, which would let the daemons act alone.
void fill_near_quota(const EtcdCluster& cluster, std::int64_t quota, double fraction) {
  const std::string value(1 << 20, 'q');
  const auto target = static_cast<std::int64_t>(fraction * static_cast<double>(quota));
  auto sizes = [&] {
    std::int64_t smallest = quota, largest = 0;
    for (const auto& st : cluster.endpoint_status()) {
      smallest = std::min(smallest, st.db_size_bytes);
      largest = std::max(largest, st.db_size_bytes);
    }
    return std::pair{smallest, largest};
  };
  bool reached = false;
  for (int round = 0; round < 100 && !reached; ++round) {
    const auto [smallest, largest] = sizes();
    REQUIRE(largest < quota * 95 / 100);
    reached = largest >= target;
    // Half the distance left in one go, so the last steps are small.
    const std::int64_t puts = reached ? 0 : std::max<std::int64_t>(1, (target - largest) >> 21);
    for (std::int64_t i = 0; i < puts; ++i) {
      const CommandResult r = cluster.etcdctl({"put", "/near-quota/key"}, "", value);
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
    }
  }
  REQUIRE(reached);
  const auto revision = current_revision(cluster, cluster.client_endpoint(0));
  cluster.etcdctl_ok({"compact", std::to_string(revision), "--physical"});
}

// Everything the quota tests share: a cluster with a 64 MiB quota and daemons whose own rule never
// fires; then (start_servers, once the cluster is filled, so no alert fires half-way) Alertmanager
// sending to the daemons with the right or a wrong token, and Prometheus with short `for:`.
struct QuotaSetup {
  static constexpr std::int64_t kQuota = 64LL * 1024 * 1024;

  explicit QuotaSetup(bool right_token) {
    cluster = EtcdCluster::start(cluster_options(kQuota));
    token = new_secret_token();
    token_file = write_secret(cluster->dir() + "/webhook.token", token);
    am_token_file = write_secret(cluster->dir() + "/alertmanager.token",
                                 right_token ? token : new_secret_token());
    DaemonSettings s;
    s.rule = "dbQuotaUsage > 2";  // never: only the webhook may start a run
    s.http_extra = "webhook_token_file = \"" + token_file + "\"";
    daemons = start_daemons(*cluster, s);
  }

  void start_servers() {
    alertmanager = start_alertmanager(cluster->dir() + "/alertmanager",
                                      alertmanager_config(daemons, am_token_file));
    const std::string rules = write_short_rules(cluster->dir() + "/short-for.rules.yml");
    prometheus = start_prometheus(cluster->dir() + "/prometheus",
                                  prometheus_config(daemons, rules, host_port(*alertmanager)));
  }

  std::unique_ptr<EtcdCluster> cluster;
  std::string token, token_file, am_token_file;
  Daemons daemons;
  std::unique_ptr<Server> alertmanager;
  std::unique_ptr<Server> prometheus;  // declared last: stopped first
};

bool targets_up(const Server& prom, int n) {
  return value_of(prom, "count(up{job=\"etcd-defragd\"} == 1)") == static_cast<double>(n);
}

// The servers' logs, for a failure message.
std::string server_logs(const QuotaSetup& setup) {
  return "prometheus:\n" + tail(setup.prometheus->log(), 2000) + "\nalertmanager:\n" +
         tail(setup.alertmanager->log(), 2000);
}

}  // namespace

TEST_CASE("e2e: Prometheus scrapes three daemons and every dashboard panel query returns data",
          "[e2e]") {
  auto cluster = EtcdCluster::start(cluster_options());
  const std::string token = new_secret_token();
  const std::string token_file = write_secret(cluster->dir() + "/webhook.token", token);
  DaemonSettings s;
  s.min_interval = "0s";  // a second run right after the first, so every counter has moved
  s.http_extra = "webhook_token_file = \"" + token_file + "\"";
  auto daemons = start_daemons(*cluster, s);
  auto prom =
      start_prometheus(cluster->dir() + "/prometheus", prometheus_config(daemons, kRulesFile));
  const double started = wall_now_s();
  REQUIRE(wait_until(kWait, [&] { return targets_up(*prom, 3); }));
  REQUIRE(lock_holder(daemons, kWait) >= 0);

  const auto queries = dashboard_queries();
  REQUIRE(queries.size() >= 20);
  for (const auto& q : queries) {
    INFO(q.where << ": " << q.expr);
    REQUIRE(q.expr.find('$') == std::string::npos);  // a variable this test does not know
  }

  cluster->write_and_fragment(24LL * 1024 * 1024);
  REQUIRE(wait_until(kWait, [&] {
    return series_total(daemons, R"(etcd_defragd_runs_total{result="success",trigger="rule"})") ==
           1;
  }));
  // The per-member panels show a daemon's first run too, as soon as Prometheus has two samples
  // of the per-member counters: increase() needs them to start from 0 (as runs_total does),
  // else the first defrag of each member counts 0 and its duration is 0/0.
  REQUIRE(wait_until(kWait, [&] {
    return value_of(*prom,
                    "min(count_over_time(etcd_defragd_member_defrags_total"
                    "{result=\"defragmented\"}[1m]))")
               .value_or(0) >= 2;
  }));
  // ...and Prometheus has scraped the run itself (the daemons counted it a moment earlier).
  REQUIRE(wait_until(kWait, [&] {
    return value_of(*prom, "sum(etcd_defragd_member_defrags_total{result=\"defragmented\"})")
               .value_or(0) >= 3;
  }));
  for (const auto& q : queries) {
    const bool handled = q.expr.find("etcd_defragd_member_defrags_total") != std::string::npos;
    const bool duration = q.expr.find("etcd_defragd_defrag_duration_seconds") != std::string::npos;
    if (!handled && !duration) continue;
    const QueryResult r = query(*prom, q.expr);
    INFO("after the first run, " << q.where << ": " << q.expr << "\n  -> " << r.text);
    CHECK(r.series >= 3);
    std::size_t at_least_one = 0, nan = 0;
    for (double v : r.values) {
      at_least_one += v >= 1 ? 1 : 0;
      nan += std::isnan(v) ? 1 : 0;
    }
    CHECK(nan == 0);
    if (handled) CHECK(at_least_one >= 3);  // every member defragmented once
  }

  // Webhook requests: one that matches no firing alert (200) and one with a wrong token (401).
  // The panel counts each one, the first of its code included.
  CHECK(post(*daemons[0], "/v1/alertmanager", token, alertmanager_payload("resolved")) == 200);
  CHECK(post(*daemons[1], "/v1/alertmanager", "wrong", alertmanager_payload("firing")) == 401);
  // Every code is exported from 0 (so the first of each counts); wait until Prometheus has
  // scraped both answers.
  REQUIRE(wait_until(kWait, [&] {
    return value_of(*prom, R"(sum(etcd_defragd_webhook_requests_total{code="200"}))").value_or(0) >=
               1 &&
           value_of(*prom, R"(sum(etcd_defragd_webhook_requests_total{code="401"}))").value_or(0) >=
               1;
  }));
  for (const auto& q : queries) {
    if (q.expr.find("etcd_defragd_webhook_requests_total") == std::string::npos) continue;
    // The panel's series for the two codes sent: both must show their one request.
    const std::string sent =
        "(" + q.expr +
        R"() and on (code) (count by (code) (etcd_defragd_webhook_requests_total{code=~"200|401"})))";
    const QueryResult r = query(*prom, sent);
    INFO("after one 200 and one 401, " << q.where << ": " << sent << "\n  -> " << r.text);
    CHECK(r.series == 2);
    for (double v : r.values) CHECK(v > 0);
  }

  // A second run, by hand: every counter has moved since Prometheus first saw it.
  for (const auto& d : daemons) CHECK(post(*d, "/v1/defrag?force=1", token) == 202);
  REQUIRE(wait_until(kWait, [&] {
    return series_total(daemons, R"(etcd_defragd_runs_total{result="success",trigger="manual"})") ==
           1;
  }));
  CHECK(defrag_order_from_logs(*cluster).size() == 6);

  // The quota and NOSPACE alerts annotation: no alert fires here (no quota pressure, and the
  // shipped `for:` durations are minutes); the quota test checks it returns the firing alert.
  // Nor does any member run an etcd release with a known defrag bug (the series exists only
  // then: metrics_daemon_metrics_test checks it, the compat label the same bug on a 3.6.4 cluster).
  // Nor are there certificates on this plain-HTTP cluster (daemon_certificate_expiry_test checks
  // the series on a TLS cluster against openssl's dates).
  auto expected_empty = [](const DashboardQuery& q) {
    return (q.annotation && q.expr.find("ALERTS") != std::string::npos) ||
           q.expr.find("etcd_defragd_member_known_defrag_bug") != std::string::npos ||
           q.expr.find("etcd_defragd_certificate_expiry_timestamp_seconds") != std::string::npos;
  };
  // Annotations are range queries in Grafana: over the test's span, a step of 5 s.
  auto run = [&](const DashboardQuery& q) {
    return q.annotation ? query_range(*prom, q.expr, started, wall_now_s(), "5s")
                        : query(*prom, q.expr);
  };
  auto all_have_data = [&] {
    for (const auto& q : queries) {
      const QueryResult r = run(q);
      if (r.status != "success" || (r.series == 0 && !expected_empty(q))) return false;
      for (double v : r.values) {
        if (std::isnan(v)) return false;
      }
    }
    return true;
  };
  // The rates need two scrapes after the last change; the panels then all have data.
  wait_until(kWait, all_have_data);
  for (const auto& q : queries) {
    const QueryResult r = run(q);
    INFO(q.where << ": " << q.expr << "\n  -> " << r.status << " " << r.error << " " << r.text);
    std::cout << (r.series > 0 ? "data  " : "EMPTY ") << r.series << " series  " << q.where
              << (r.values.empty() ? std::string() : " = " + std::to_string(r.values.front()))
              << "\n";
    CHECK(r.status == "success");
    if (expected_empty(q)) {
      CHECK(r.series == 0);
    } else {
      CHECK(r.series > 0);
    }
    for (double v : r.values) CHECK_FALSE(std::isnan(v));
  }
  check_rules_healthy(*prom, alert_rule_count(read_file(kRulesFile)));
}

TEST_CASE(
    "e2e: a near-quota cluster fires the alert, Alertmanager calls the webhook, exactly one "
    "daemon defragments",
    "[e2e]") {
  QuotaSetup setup(true);
  const auto& cluster = *setup.cluster;
  const auto& daemons = setup.daemons;
  REQUIRE(lock_holder(daemons, kWait) >= 0);
  const int leader = leader_index(cluster);
  fill_near_quota(cluster, QuotaSetup::kQuota, 0.85);

  const double started = wall_now_s();
  setup.start_servers();
  const auto& prom = *setup.prometheus;
  REQUIRE(wait_until(kWait, [&] { return targets_up(prom, 3); }));
  if (!wait_until(kWait, [&] { return quota_alert_fired(prom); })) {
    FAIL("the quota alert never fired\n" << server_logs(setup));
  }

  const std::string kAlertmanagerRuns =
      R"(etcd_defragd_runs_total{result="success",trigger="alertmanager"})";
  if (!wait_until(kWait, [&] { return series_total(daemons, kAlertmanagerRuns) >= 1; })) {
    FAIL("no run by the webhook\n"
         << server_logs(setup) << "\ndaemon 0:\n"
         << tail(daemons[0]->log(), 2000));
  }
  REQUIRE(wait_until(kWait, [&] { return quota_alert_state(prom).empty(); }));  // resolved
  // Alertmanager tells the daemons too (send_resolved); they only log it.
  CHECK(wait_until(kWait, [&] {
    for (const auto& d : daemons) {
      if (d->log().find("(resolved)") != std::string::npos) return true;
    }
    return false;
  }));

  CHECK(series_total(daemons, kAlertmanagerRuns) == 1);
  CHECK(family_total(daemons, "etcd_defragd_runs_total") == 1);
  int actors = 0;
  for (std::size_t i = 0; i < daemons.size(); ++i) {
    const std::string log = daemons[i]->log();
    INFO("daemon " << i << ":\n" << tail(log));
    CHECK(log.find("webhook: group") != std::string::npos);  // every daemon got the alert
    if (daemons[i]->metric(kAlertmanagerRuns) == 1) {
      ++actors;
      CHECK(log.find("starting a run (webhook)") != std::string::npos);
    } else {
      CHECK(log.find("starting a run") == std::string::npos);
    }
  }
  CHECK(actors == 1);
  const auto order = defrag_order_from_logs(cluster);
  REQUIRE(order.size() == 3);
  CHECK(order.back() == leader);
  for (const auto& st : cluster.endpoint_status()) {
    INFO(st.endpoint << ": dbSize " << st.db_size_bytes);
    CHECK(st.db_size_bytes < QuotaSetup::kQuota / 4);
  }
  CHECK(series_total(daemons, R"(etcd_defragd_webhook_requests_total{code="202"})") > 0);
  CHECK(series_total(daemons, R"(etcd_defragd_webhook_requests_total{code="401"})") == 0);
  // Prometheus saw it too: the run, and the dashboard's alert annotation.
  CHECK(wait_until(kWait, [&] { return value_of(prom, "sum(" + kAlertmanagerRuns + ")") == 1.0; }));
  // The alert fires for as little as one rule evaluation (1 s) when the webhook's run is quick:
  // a step of the evaluation interval is sure to land inside that window, a longer one is not.
  for (const auto& q : dashboard_queries()) {
    if (!q.annotation || q.expr.find("ALERTS") == std::string::npos) continue;
    const QueryResult r = query_range(prom, q.expr, started, wall_now_s(), "1s");
    INFO(q.where << ": " << q.expr << " -> " << r.status << " " << r.text);
    CHECK(r.series > 0);
  }
}

TEST_CASE("e2e: a wrong token in Alertmanager gets 401s and nothing is defragmented", "[e2e]") {
  QuotaSetup setup(false);
  const auto& cluster = *setup.cluster;
  const auto& daemons = setup.daemons;
  REQUIRE(lock_holder(daemons, kWait) >= 0);
  fill_near_quota(cluster, QuotaSetup::kQuota, 0.85);
  const auto filled = cluster.endpoint_status();

  setup.start_servers();
  const auto& prom = *setup.prometheus;
  REQUIRE(wait_until(kWait, [&] { return targets_up(prom, 3); }));
  if (!wait_until(kWait, [&] { return quota_alert_state(prom) == "firing"; })) {
    FAIL("the quota alert never fired\n" << server_logs(setup));
  }
  const std::string k401 = R"(etcd_defragd_webhook_requests_total{code="401"})";
  REQUIRE(wait_until(kWait, [&] {
    for (const auto& d : daemons) {
      if (d->metric(k401) < 1) return false;
    }
    return true;
  }));
  // Alertmanager retries the failed notification; give it several deliveries, time in which a
  // wrongly accepted request would have started a run (the daemons poll every second).
  const auto first_401 = std::chrono::steady_clock::now();
  CHECK(wait_until(kWait, [&] { return series_total(daemons, k401) >= 9; }));
  std::this_thread::sleep_until(first_401 + 10s);
  // Prometheus sees the 401s: the alert meant for exactly this fires.
  CHECK(wait_until(kWait, [&] { return alert_firing(prom, "EtcdDefragdWebhookUnauthorized"); }));

  CHECK(cluster.defrag_events().empty());
  CHECK(family_total(daemons, "etcd_defragd_runs_total") == 0);
  CHECK(series_total(daemons, R"(etcd_defragd_webhook_requests_total{code="202"})") == 0);
  for (const auto& d : daemons) {
    const std::string log = d->log();
    INFO(tail(log));
    CHECK(log.find("webhook: 401") != std::string::npos);
    CHECK(log.find("starting a run") == std::string::npos);
  }
  CHECK(quota_alert_state(prom) == "firing");
  // No file shrank since the fill (the members fill to slightly different sizes; the alert
  // takes the largest).
  const auto now = cluster.endpoint_status();
  REQUIRE(now.size() == filled.size());
  for (std::size_t i = 0; i < now.size(); ++i)
    CHECK(now[i].db_size_bytes >= filled[i].db_size_bytes);
}
