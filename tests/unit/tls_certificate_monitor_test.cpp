// The daemon's certificate watch: what a round of handshakes becomes (series, log lines once per
// change), when it checks, and the probe's own failures (refused, hanging) on loopback.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>

#include "tls/certificate_monitor.h"

using namespace edd::tls;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kNow = 1798042200;
constexpr std::int64_t kDay = 86400;

MemberProbe ok(const std::string& ep, const std::string& name, std::int64_t not_after) {
  return {{ep, name}, {not_after, ""}};
}
MemberProbe failed(const std::string& ep, const std::string& name, std::string why,
                   std::optional<std::int64_t> not_after = std::nullopt) {
  return {{ep, name}, {not_after, std::move(why)}};
}

// Records what the monitor publishes and says; its probe answers from a table and counts.
struct Recorder {
  std::mutex mu;
  std::vector<CertificateExpiry> series;
  std::vector<LogLine> lines;
  std::map<std::string, ServerCertificate> answers;
  int probes = 0;

  CertificateMonitor make(std::chrono::seconds period = 3600s) {
    return CertificateMonitor(
        [this](const std::vector<CertificateExpiry>& s) {
          std::lock_guard l(mu);
          series = s;
        },
        [this](const LogLine& line) {
          std::lock_guard l(mu);
          lines.push_back(line);
        },
        period);
  }
  CertificateMonitor::Probe probe() {
    return [this](const std::string& ep) {
      std::lock_guard l(mu);
      ++probes;
      return answers[ep];
    };
  }
};

ProbeSettings tls_settings() {
  ProbeSettings s;
  s.tls_for_bare_endpoints = true;
  return s;
}

}  // namespace

TEST_CASE("a round of handshakes gives one server series per member, named by member") {
  CertificateTracker t;
  const auto lines = t.record(
      {ok("https://a:2379", "m0", kNow + 5 * kDay), ok("https://b:2379", "", kNow + 4 * kDay)},
      kNow);
  const auto s = t.series();
  REQUIRE(s.size() == 2);
  CHECK(s[0].certificate == "server");
  CHECK(s[0].member == "m0");
  CHECK(s[0].endpoint == "https://a:2379");
  CHECK(s[0].not_after_unix == kNow + 5 * kDay);
  CHECK(s[1].member == "https://b:2379");  // no name known: the endpoint names it
  REQUIRE(lines.size() == 2);
  CHECK_FALSE(lines[0].warning);
  CHECK(lines[0].text ==
        "certificate: the serving certificate of m0 (https://a:2379) expires "
        "2026-12-28T16:10:00Z (5 days left)");
}

TEST_CASE("the same expiry again says nothing, a renewed certificate is said once") {
  CertificateTracker t;
  (void)t.record({ok("https://a:2379", "m0", kNow + 5 * kDay)}, kNow);
  CHECK(t.record({ok("https://a:2379", "m0", kNow + 5 * kDay)}, kNow + 3600).empty());
  const auto lines = t.record({ok("https://a:2379", "m0", kNow + 365 * kDay)}, kNow + 7200);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0].text, Catch::Contains("364 days left"));
}

TEST_CASE("a failed handshake is warned once per change and its series goes") {
  CertificateTracker t;
  (void)t.record({ok("https://a:2379", "m0", kNow + 5 * kDay), ok("https://b:2379", "m1", kNow)},
                 kNow);
  auto lines = t.record({ok("https://a:2379", "m0", kNow + 5 * kDay),
                         failed("https://b:2379", "m1", "Connection refused")},
                        kNow);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].warning);
  CHECK(lines[0].text ==
        "certificate: the TLS handshake with m1 (https://b:2379) failed: Connection refused; its "
        "expiry is unknown until it succeeds");
  REQUIRE(t.series().size() == 1);
  CHECK(t.series()[0].member == "m0");
  // The same failure at the next check: not again.
  CHECK(t.record({ok("https://a:2379", "m0", kNow + 5 * kDay),
                  failed("https://b:2379", "m1", "Connection refused")},
                 kNow)
            .empty());
  // Back: said once, series back.
  lines = t.record(
      {ok("https://a:2379", "m0", kNow + 5 * kDay), ok("https://b:2379", "m1", kNow + kDay)}, kNow);
  REQUIRE(lines.size() == 1);
  CHECK_FALSE(lines[0].warning);
  CHECK(t.series().size() == 2);
}

TEST_CASE("an expired serving certificate fails verification but keeps its series") {
  CertificateTracker t;
  const auto lines =
      t.record({failed("https://a:2379", "m0", "certificate verify failed: certificate has expired",
                       kNow - 2 * kDay)},
               kNow);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].warning);
  CHECK_THAT(lines[0].text, Catch::Contains("EXPIRED 2 days ago"));
  REQUIRE(t.series().size() == 1);
  CHECK(t.series()[0].not_after_unix == kNow - 2 * kDay);
}

TEST_CASE("members gone from the round lose their series") {
  CertificateTracker t;
  (void)t.record({ok("https://a:2379", "m0", kNow), ok("https://b:2379", "m1", kNow)}, kNow);
  (void)t.record({ok("https://a:2379", "m0", kNow)}, kNow);
  REQUIRE(t.series().size() == 1);
  CHECK(t.series()[0].endpoint == "https://a:2379");
}

TEST_CASE("the client certificate is one series without member or endpoint, said once") {
  CertificateTracker t;
  auto lines = t.set_client(kNow + 20 * kDay - 60, kNow);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].text ==
        "certificate: the client certificate expires 2027-01-12T16:09:00Z (19 days left)");
  CHECK(t.set_client(kNow + 20 * kDay - 60, kNow).empty());
  REQUIRE(t.series().size() == 1);
  CHECK(t.series()[0].certificate == "client");
  CHECK(t.series()[0].member.empty());
  CHECK(t.series()[0].endpoint.empty());
  CHECK(t.set_client(std::nullopt, kNow).empty());
  CHECK(t.series().empty());
}

TEST_CASE("the monitor checks after the first poll, then hourly or when the members change") {
  Recorder r;
  r.answers["https://a:2379"] = {kNow + 5 * kDay, ""};
  r.answers["https://b:2379"] = {kNow + 6 * kDay, ""};
  auto m = r.make(3600s);
  m.set_probe(r.probe());
  m.reset(tls_settings(), kNow);
  const std::chrono::steady_clock::time_point t0{};
  const std::vector<MemberEndpoint> one{{"https://a:2379", "m0"}};
  const std::vector<MemberEndpoint> two{{"https://a:2379", "m0"}, {"https://b:2379", "m1"}};

  m.after_poll(one, t0, kNow);
  m.wait();
  CHECK(r.probes == 1);
  REQUIRE(r.series.size() == 1);
  m.after_poll(one, t0 + 59min, kNow);
  m.wait();
  CHECK(r.probes == 1);  // not every poll
  m.after_poll(two, t0 + 59min, kNow);
  m.wait();
  CHECK(r.probes == 3);  // a new member: both at once
  CHECK(r.series.size() == 2);
  m.after_poll(two, t0 + 59min + 3600s, kNow);
  m.wait();
  CHECK(r.probes == 5);           // an hour later
  m.reset(tls_settings(), kNow);  // SIGHUP
  m.after_poll(two, t0 + 59min + 3601s, kNow);
  m.wait();
  CHECK(r.probes == 7);
  m.after_poll(one, t0 + 59min + 3602s, kNow);
  m.wait();
  CHECK(r.series.size() == 1);  // member b removed: its series goes
}

TEST_CASE("plaintext members are never probed and have no series") {
  Recorder r;
  auto m = r.make();
  m.set_probe(r.probe());
  ProbeSettings plain;  // no TLS files: bare endpoints are plaintext
  m.reset(plain, kNow);
  m.after_poll({{"127.0.0.1:2379", "m0"}, {"http://127.0.0.1:2380", "m1"}}, {}, kNow);
  m.wait();
  CHECK(r.probes == 0);
  CHECK(r.series.empty());
}

TEST_CASE("a refused connection is an error with no certificate, within the timeout") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  acceptor.close();  // nothing listens there now
  ProbeSettings s = tls_settings();
  s.timeout = 2000ms;
  const auto start = std::chrono::steady_clock::now();
  const auto r = probe_server_certificate(s, "https://127.0.0.1:" + std::to_string(port));
  CHECK(std::chrono::steady_clock::now() - start < 2000ms);
  CHECK_FALSE(r.not_after_unix);
  CHECK_THAT(r.error, Catch::Contains("refused"));
}

TEST_CASE("a peer that never answers the handshake times out") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();  // listens (backlog), never speaks TLS
  ProbeSettings s = tls_settings();
  s.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  const auto r = probe_server_certificate(s, "127.0.0.1:" + std::to_string(port));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 300ms);
  CHECK(took < 2000ms);
  CHECK_FALSE(r.not_after_unix);
  CHECK_THAT(r.error, Catch::Contains("timed out"));
}
