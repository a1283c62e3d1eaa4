// edd_listener_bench: one `etcd-defragd run` on a real 3-member cluster, scraped by a paced
// client that opens a new connection per scrape (the hard case: it must get in past the
// attackers), first alone and then under a same-host slowloris (tests/e2e/slow_clients.h:
// hundreds of never-finished requests from 127.0.0.1-9, reopened as soon as they are closed).
// Prints /metrics latency (p50/p99/max), scrape success (200 within 1 s, Prometheus' timeout
// here) and the daemon's CPU and memory in each phase. Asserts nothing; not part of `all` nor of
// ctest: run tests/bench/run_listener_bench.sh.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/slow_clients.h"
#include "harness/etcd_cluster.h"
#include "support/daemon_process.h"

namespace {

using edd::test::DaemonProcess;
using edd::test::DaemonSettings;
using edd::test::EtcdCluster;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  double seconds = 20;  // per phase
  double rate = 10;     // scrapes per second
  int loopback = 100;   // slow connections from 127.0.0.1
  int others = 8;       // source addresses 127.0.0.2 ...
  int per_other = 30;   // ... slow connections from each
};

struct Phase {
  std::string name;
  std::vector<double> latencies_ms;  // of the scrapes that succeeded
  int scrapes = 0;
  int ok = 0;
  double cpu_percent = 0;  // of one core
  long rss_start_kib = 0;
  long rss_max_kib = 0;
  double polls = 0;
};

// One scrape on a new connection: 200 and the whole body within 1 s. Returns the latency in
// ms, or -1 on failure.
double scrape(int port) {
  const auto start = SteadyClock::now();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const timeval limit{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    const std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[16384];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, n);
    }
  }
  ::close(fd);
  const double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
  const bool ok = answer.rfind("HTTP/1.1 200", 0) == 0 &&
                  answer.find("etcd_defragd_build_info") != std::string::npos && ms < 1000;
  return ok ? ms : -1;
}

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

Phase measure(const std::string& name, const DaemonProcess& daemon, const Options& o) {
  Phase p{name, {}, 0, 0, 0, edd::test::rss_kib(daemon.pid()), 0, 0};
  p.rss_max_kib = p.rss_start_kib;
  const double polls_before = daemon.metric("etcd_defragd_poll_duration_seconds_count");
  const double cpu_before = cpu_seconds(daemon.pid());
  const auto start = SteadyClock::now();
  const auto period = std::chrono::duration<double>(1.0 / o.rate);
  for (int i = 0; SteadyClock::now() - start < std::chrono::duration<double>(o.seconds); ++i) {
    std::this_thread::sleep_until(
        start + std::chrono::duration_cast<SteadyClock::duration>(period * static_cast<double>(i)));
    const double ms = scrape(daemon.port());
    ++p.scrapes;
    if (ms >= 0) {
      ++p.ok;
      p.latencies_ms.push_back(ms);
    }
    p.rss_max_kib = std::max(p.rss_max_kib, edd::test::rss_kib(daemon.pid()));
  }
  const double wall = std::chrono::duration<double>(SteadyClock::now() - start).count();
  p.cpu_percent = 100 * (cpu_seconds(daemon.pid()) - cpu_before) / wall;
  p.polls = daemon.metric("etcd_defragd_poll_duration_seconds_count") - polls_before;
  return p;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

void print(const Phase& p) {
  std::printf("%-22s %7d %8.1f%% %8.2f %8.2f %8.2f %8.1f%% %7.1f -> %5.1f MiB %6.0f\n",
              p.name.c_str(), p.scrapes, 100.0 * p.ok / std::max(1, p.scrapes),
              percentile(p.latencies_ms, 0.5), percentile(p.latencies_ms, 0.99),
              percentile(p.latencies_ms, 1.0), p.cpu_percent,
              static_cast<double>(p.rss_start_kib) / 1024.0,
              static_cast<double>(p.rss_max_kib) / 1024.0, p.polls);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"etcd-defragd's /metrics under a same-host slowloris"};
  app.add_option("--seconds", o.seconds, "Length of each phase")->capture_default_str();
  app.add_option("--rate", o.rate, "Scrapes per second, each on a new connection")
      ->capture_default_str();
  app.add_option("--loopback", o.loopback, "Slow connections from 127.0.0.1")
      ->capture_default_str();
  app.add_option("--others", o.others, "Other source addresses (127.0.0.2 ...)")
      ->capture_default_str();
  app.add_option("--per-other", o.per_other, "Slow connections from each other address")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto cluster = EtcdCluster::start(edd::test::ClusterOptions{});
  DaemonSettings s;
  s.rule = "dbSize < 0";  // never: the daemon only polls and serves
  DaemonProcess daemon(*cluster, 0, s);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // past the first polls

  std::vector<Phase> phases;
  phases.push_back(measure("no attack", daemon, o));
  const auto sources = edd::test::attack_sources(o.loopback, o.others, o.per_other);
  edd::test::SlowClients attack(daemon.port(), edd::test::kHalfRequestHead, sources,
                                std::chrono::milliseconds(static_cast<long>(o.seconds * 3000)));
  std::this_thread::sleep_for(std::chrono::seconds(1));  // every slot open once
  phases.push_back(measure("slowloris", daemon, o));
  const std::size_t opened = attack.opened();
  const std::size_t closed = attack.closed_by_daemon();
  attack.stop();

  std::printf("%-22s %7s %9s %8s %8s %8s %9s %20s %6s\n", "phase", "scrapes", "success", "p50 ms",
              "p99 ms", "max ms", "CPU", "RSS start -> max", "polls");
  for (const auto& p : phases) print(p);
  std::printf(
      "\nslowloris: %zu connections (%d from 127.0.0.1, %d x %d from 127.0.0.2-%d), reopened "
      "5 times a second: %zu opened, %zu closed by the daemon\n",
      sources.size(), o.loopback, o.others, o.per_other, 1 + o.others, opened, closed);
  for (const char* reason : {"evicted_incomplete", "head_timeout", "per_address_limit",
                             "listener_full", "tls_handshake_timeout", "request_timeout"}) {
    std::printf(
        "  etcd_defragd_http_connections_rejected_total{reason=\"%s\"} %.0f\n", reason,
        daemon.metric(std::string("etcd_defragd_http_connections_rejected_total{reason=\"") +
                      reason + "\"}"));
  }
  std::printf("scrape: GET /metrics on a new connection, %.0f/s, success = 200 within 1 s\n",
              o.rate);
  return 0;
}
