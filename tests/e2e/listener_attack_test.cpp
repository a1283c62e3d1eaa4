// The HTTP listener under a same-host slowloris, end to end: a real 3-member cluster, two real
// daemons (one plain, one HTTPS), hundreds of connections per daemon that never finish a request
// (from 127.0.0.1, where Prometheus also comes from, and from 127.0.0.2-9), reopened as soon as
// the daemon closes them. Meanwhile Debian's real Prometheus scrapes both every second and a
// client posts valid Alertmanager payloads to both: every scrape and every webhook call must
// succeed, the daemons keep polling and run, their memory stays bounded, and the evictions are
// counted. Every process is stopped by its PID; every loop is bounded.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/slow_clients.h"
#include "harness/pki.h"
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

constexpr auto kAttack = 20s;
constexpr int kLoopbackSlow = 100;   // from 127.0.0.1: over the per-address cap (32)
constexpr int kOtherSources = 8;     // 127.0.0.2-9 ...
constexpr int kPerOtherSource = 30;  // ... 30 each: with the above, over the global cap (256)
// What the attacked connections may add to a daemon's resident memory at most. Under
// AddressSanitizer freed memory sits in a quarantine (256 MiB by default), which the churn of
// thousands of connections fills: the daemons get a small one (below), and ASan's redzones
// more than double what remains.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kMaxGrowthKiB = 128 * 1024;
#else
constexpr long kMaxGrowthKiB = 48 * 1024;
#endif

// Daemons started from now on keep at most 16 MiB of freed memory in ASan's quarantine, so their
// RSS shows what they hold rather than what ASan holds back; nothing else of ASan changes.
void small_asan_quarantine() {
#if defined(__SANITIZE_ADDRESS__)
  const char* current = std::getenv("ASAN_OPTIONS");
  std::string options = current ? current : "";
  options += std::string(options.empty() ? "" : ":") + "quarantine_size_mb=16";
  ::setenv("ASAN_OPTIONS", options.c_str(), 1);
#endif
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

// One daemon as a client sees it: where, and with which CA when it speaks HTTPS.
struct Target {
  const DaemonProcess* daemon;
  std::string ca_file;  // empty: plain HTTP
  std::string url(const std::string& path) const {
    return (ca_file.empty() ? "http" : "https") + std::string("://127.0.0.1:") +
           std::to_string(daemon->port()) + path;
  }
  std::vector<std::string> curl(std::vector<std::string> args) const {
    args.insert(args.begin(), {"curl", "-sS", "--max-time", "5"});
    if (!ca_file.empty()) args.insert(args.begin() + 4, {"--cacert", ca_file});
    return args;
  }
};

// The value of one sample of the daemon's /metrics; -1 when absent or unreachable.
double metric(const Target& t, const std::string& sample) {
  const CommandResult r = run_command(t.curl({t.url("/metrics")}), 10s);
  remember_output(r.out);
  const auto at = r.out.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(r.out.substr(at + sample.size() + 2));
}

double rejected(const Target& t, const std::string& reason) {
  return metric(t, "etcd_defragd_http_connections_rejected_total{reason=\"" + reason + "\"}");
}

// Debian's Prometheus scraping both daemons every second, stopped by PID.
class Prometheus {
 public:
  Prometheus(const std::string& dir, const std::vector<Target>& targets) {
    std::filesystem::create_directories(dir + "/tsdb");
    std::ostringstream y;
    y << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n";
    for (std::size_t i = 0; i < targets.size(); ++i) {
      y << "  - job_name: edd-" << i << "\n";
      if (!targets[i].ca_file.empty()) {
        y << "    scheme: https\n    tls_config:\n      ca_file: " << targets[i].ca_file << "\n";
      }
      y << "    static_configs:\n      - targets: ['127.0.0.1:" << targets[i].daemon->port()
        << "']\n";
    }
    write_text(dir + "/prometheus.yml", y.str());
    log_ = dir + "/prometheus.log";
    port_ = free_loopback_port();
    pid_ = spawn_process({"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
                          "--storage.tsdb.path=" + dir + "/tsdb",
                          "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
                         log_);
    if (!eventually(60s, [&] { return get("/-/ready").find("Ready") != std::string::npos; })) {
      throw std::runtime_error("prometheus did not become ready:\n" + read_file(log_));
    }
  }
  ~Prometheus() { stop_processes({pid_}, 10s); }
  Prometheus(const Prometheus&) = delete;
  Prometheus& operator=(const Prometheus&) = delete;

  std::string get(const std::string& path_and_query) const {
    return run_command({"curl", "-sS", "--max-time", "5", "-g",
                        "http://127.0.0.1:" + std::to_string(port_) + path_and_query},
                       10s)
        .out;
  }
  // One value per series of an instant query at `at` (unix seconds).
  std::vector<double> query(const std::string& expr, double at) const {
    const CommandResult r = run_command(
        {"curl", "-sS", "--max-time", "5", "-G",
         "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/query", "--data-urlencode",
         "query=" + expr, "--data-urlencode", "time=" + std::to_string(at)},
        10s);
    std::vector<double> values;
    boost::system::error_code ec;
    const json::value v = json::parse(r.out, ec);
    if (ec || !v.is_object() || !v.as_object().contains("data")) return values;
    for (const auto& s : v.at("data").at("result").as_array()) {
      values.push_back(std::stod(std::string(s.at("value").as_array().at(1).as_string())));
    }
    return values;
  }
  std::string log() const { return read_file(log_); }

 private:
  std::string log_;
  int port_ = 0;
  pid_t pid_ = 0;
};

// A valid Alertmanager notification with one firing alert the daemons' matchers select.
std::string firing_payload() {
  const json::object labels{{"alertname", "EtcdDefragdQuotaUsageHigh"},
                            {"remediation", "etcd-defrag"}};
  const json::object alert{{"status", "firing"},
                           {"labels", labels},
                           {"annotations", json::object{}},
                           {"startsAt", "2024-01-01T00:00:00Z"},
                           {"endsAt", "0001-01-01T00:00:00Z"},
                           {"fingerprint", "0123456789abcdef"}};
  return json::serialize(json::object{{"version", "4"},
                                      {"groupKey", "{}:{remediation=\"etcd-defrag\"}"},
                                      {"status", "firing"},
                                      {"receiver", "etcd-defragd"},
                                      {"groupLabels", json::object{}},
                                      {"commonLabels", labels},
                                      {"commonAnnotations", json::object{}},
                                      {"externalURL", "http://127.0.0.1:9093"},
                                      {"alerts", json::array{alert}}});
}

// The HTTP status of one webhook call; 0 when there was no answer.
int post_webhook(const Target& t, const std::string& token) {
  const CommandResult r =
      run_command(t.curl({"-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H",
                          "Authorization: Bearer " + token, "-H", "Content-Type: application/json",
                          "--data-binary", "@-", t.url("/v1/alertmanager")}),
                  10s, {}, firing_payload());
  try {
    return r.exit_code == 0 ? std::stoi(r.out) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

// One attacked daemon's figures: before the attack, at most during it, and at its end.
struct DaemonFigures {
  double polls_before = 0, polls_after = 0;
  long rss_before = 0, rss_max = 0;  // KiB
  std::size_t closed_seen = 0;       // by its attacker, before the counters were read
  double evicted = 0, all_rejected = 0, runs = 0;
};

DaemonFigures figures_before(const Target& t) {
  DaemonFigures f;
  f.polls_before = metric(t, "etcd_defragd_poll_duration_seconds_count");
  f.rss_before = f.rss_max = rss_kib(t.daemon->pid());
  return f;
}

// Read through the attacked listener while the attack goes on.
void read_counters(const Target& t, DaemonFigures& f) {
  f.polls_after = metric(t, "etcd_defragd_poll_duration_seconds_count");
  f.evicted = rejected(t, "evicted_incomplete");
  for (const char* reason : {"listener_full", "per_address_limit", "evicted_incomplete",
                             "head_timeout", "request_timeout", "tls_handshake_timeout"}) {
    f.all_rejected += std::max(0.0, rejected(t, reason));
  }
  f.runs = std::max(
      0.0, metric(t, R"(etcd_defragd_runs_total{result="success",trigger="alertmanager"})"));
}

void check_daemon(const std::string& name, const DaemonFigures& f, int window) {
  std::cout << name << " daemon: RSS " << f.rss_before << " -> max " << f.rss_max << " KiB, polls "
            << f.polls_before << " -> " << f.polls_after << ", attacker saw " << f.closed_seen
            << " closed, evicted " << f.evicted << ", all rejected " << f.all_rejected << "\n";
  INFO(name << " daemon");
  CHECK(f.polls_after - f.polls_before >= window / 2.0);
  CHECK(f.rss_max - f.rss_before <= kMaxGrowthKiB);
  CHECK(f.evicted >= 100);
  // Every connection its attacker saw closed is in the counter, under one reason or another.
  CHECK(f.all_rejected >= static_cast<double>(f.closed_seen));
}

// Lines of the daemon's log about evictions: one per minute at most, however many there were.
int eviction_log_lines(const DaemonProcess& d) {
  std::istringstream log(d.log());
  int lines = 0;
  for (std::string line; std::getline(log, line);) {
    lines += line.find("had not completed a request") != std::string::npos ? 1 : 0;
  }
  return lines;
}

}  // namespace

TEST_CASE(
    "e2e: hundreds of slow connections, plain and TLS, stop no Prometheus scrape, webhook call, "
    "poll or run, memory stays bounded and the evictions are counted",
    "[e2e]") {
  auto cluster = EtcdCluster::start(cluster_options());
  const std::string token = new_secret_token();
  const std::string token_file = cluster->dir() + "/webhook.token";
  write_text(token_file, token + "\n");
  std::filesystem::permissions(
      token_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const TestPki pki = generate_test_pki(cluster->dir() + "/http-pki");
  remember_key_file(pki.server_key_file);

  small_asan_quarantine();
  DaemonSettings s;
  s.rule = "dbQuotaUsage > 2";  // never: the webhook's alert starts the run
  s.http_extra = "webhook_token_file = \"" + token_file + "\"";
  DaemonProcess plain(*cluster, 0, s, "-plain");
  s.http_extra +=
      "\ncert = \"" + pki.server_cert_file + "\"\nkey = \"" + pki.server_key_file + "\"";
  DaemonProcess tls(*cluster, 1, s, "-tls");
  const std::vector<Target> targets{{&plain, ""}, {&tls, pki.ca_file}};
  Prometheus prom(cluster->dir() + "/prometheus", targets);
  REQUIRE(eventually(
      30s, [&] { return prom.query("count(up == 1)", wall_now_s()) == std::vector<double>{2}; }));

  std::vector<DaemonFigures> figures;
  for (const auto& t : targets) figures.push_back(figures_before(t));

  const double attack_started = wall_now_s();
  const auto sources = attack_sources(kLoopbackSlow, kOtherSources, kPerOtherSource);
  std::vector<std::unique_ptr<SlowClients>> attacks;
  attacks.push_back(
      std::make_unique<SlowClients>(plain.port(), kHalfRequestHead, sources, 3 * kAttack));
  attacks.push_back(
      std::make_unique<SlowClients>(tls.port(), kHalfClientHello, sources, 3 * kAttack));
  std::vector<int> webhook_codes;
  const auto attack_end = std::chrono::steady_clock::now() + kAttack;
  while (std::chrono::steady_clock::now() < attack_end) {
    for (std::size_t i = 0; i < targets.size(); ++i) {
      webhook_codes.push_back(post_webhook(targets[i], token));
      figures[i].rss_max = std::max(figures[i].rss_max, rss_kib(targets[i].daemon->pid()));
    }
    std::this_thread::sleep_for(500ms);
  }
  const double attack_ended = wall_now_s();
  // Before the daemons' counters: every closure seen here has been counted by then.
  for (std::size_t i = 0; i < targets.size(); ++i) {
    figures[i].closed_seen = attacks[i]->closed_by_daemon();
  }
  for (std::size_t i = 0; i < targets.size(); ++i) read_counters(targets[i], figures[i]);
  for (auto& a : attacks) a->stop();

  const int window = static_cast<int>(attack_ended - attack_started);
  const std::string range = "[" + std::to_string(window) + "s]";
  const auto up_min = prom.query("min_over_time(up" + range + ")", attack_ended);
  const auto scrapes = prom.query("count_over_time(up" + range + ")", attack_ended);
  const auto slowest =
      prom.query("max_over_time(scrape_duration_seconds" + range + ")", attack_ended);
  INFO("prometheus log:\n" << prom.log().substr(0, 3000));
  // Every scrape of both daemons succeeded, about one a second.
  CHECK(up_min == std::vector<double>{1, 1});
  REQUIRE(scrapes.size() == 2);
  for (double n : scrapes) CHECK(n >= window - 3);
  for (double d : slowest) CHECK(d < 1.0);
  // Every webhook call was accepted (202), about two a second per daemon, and a run went through.
  CHECK(webhook_codes.size() >= 20);
  CHECK(std::count(webhook_codes.begin(), webhook_codes.end(), 202) ==
        static_cast<long>(webhook_codes.size()));
  CHECK(figures[0].runs + figures[1].runs >= 1);
  check_daemon("plain", figures[0], window);
  check_daemon("TLS", figures[1], window);
  // Thousands of evictions, one log line: at most one per reason a minute.
  CHECK(eviction_log_lines(plain) == 1);
  CHECK(eviction_log_lines(tls) == 1);
  CHECK(plain.running());
  CHECK(tls.running());
}
