// Certificates about to expire, on a real TLS cluster whose certificates the test made short-lived
// (members' serving certificate 5 days, the client's 20): the daemon exports each notAfter, and
// `status` prints the days left; a member that stops answering loses its series, warned once.
#include <time.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>

#include "support/cluster_checks.h"
#include "support/daemon_process.h"
#include "support/edd_cli.h"
#include "tls/certificate_probe.h"

using namespace edd::test;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kDay = 86400;
const std::string kFamily = "etcd_defragd_certificate_expiry_timestamp_seconds";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What an operator runs: `openssl x509 -enddate -noout -in FILE` -> notAfter=Dec  8 16:40:00 2026
// GMT, as unix seconds.
std::int64_t openssl_enddate(const std::string& file) {
  const CommandResult r = run_command({"openssl", "x509", "-enddate", "-noout", "-in", file}, 10s);
  REQUIRE(r.exit_code == 0);
  std::tm tm{};
  const char* rest = strptime(r.out.c_str(), "notAfter=%b %d %H:%M:%S %Y GMT", &tm);
  REQUIRE(rest != nullptr);
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string server_series(const EtcdCluster& c, int i) {
  return kFamily + "{certificate=\"server\",endpoint=\"" + c.client_endpoint(i) + "\",member=\"" +
         c.member_name(i) + "\"}";
}
const std::string kClientSeries = kFamily + "{certificate=\"client\",endpoint=\"\",member=\"\"}";

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("certificates: the daemon exports each notAfter and status prints the days left",
          "[daemon][tls][certificates]") {
  const std::int64_t made_at = unix_now();
  ClusterOptions options = cluster_options(0, Security::kTls);
  options.pki_lifetimes = {5, 20};
  auto cluster = EtcdCluster::start(options);
  const std::string server_cert = cluster->dir() + "/pki/server.crt";
  const std::int64_t server_not_after = openssl_enddate(server_cert);
  const std::int64_t client_not_after = openssl_enddate(cluster->client_cert_file());
  // The certificates are what the test asked for: 5 and 20 days from when it made them.
  CHECK(server_not_after >= made_at + 5 * kDay);
  CHECK(server_not_after <= unix_now() + 5 * kDay);
  CHECK(client_not_after >= made_at + 20 * kDay);

  DaemonLaunch launch;
  launch.dir = cluster->dir() + "/daemon-certs";
  launch.config.endpoint = cluster->client_endpoint(0);
  launch.config.cacert = cluster->ca_file();
  launch.config.cert = cluster->client_cert_file();
  launch.config.key = cluster->client_key_file();
  launch.config.dial_timeout = "1s";
  launch.config.rule = "dbSize < 0";  // never: no run meanwhile
  DaemonProcess daemon(launch);

  // Within a minute of the certificates' notAfter: here, to the second.
  REQUIRE(eventually(20s, [&] {
    for (int i = 0; i < cluster->size(); ++i) {
      if (daemon.metric(server_series(*cluster, i)) < 0) return false;
    }
    return daemon.metric(kClientSeries) >= 0;
  }));
  CHECK(static_cast<std::int64_t>(daemon.metric(kClientSeries)) == client_not_after);
  for (int i = 0; i < cluster->size(); ++i) {
    INFO(server_series(*cluster, i));
    CHECK(static_cast<std::int64_t>(daemon.metric(server_series(*cluster, i))) == server_not_after);
  }
  CHECK_THAT(daemon.log(), Catch::Contains("certificate: the client certificate expires"));

  // status, as a table and as JSON.
  const std::vector<std::string> tls_flags{"--cacert", cluster->ca_file(),
                                           "--cert",   cluster->client_cert_file(),
                                           "--key",    cluster->client_key_file()};
  std::vector<std::string> args{"status", "--endpoints", cluster->client_endpoint(0), "--cluster"};
  args.insert(args.end(), tls_flags.begin(), tls_flags.end());
  const CommandResult table = run_edd(args);
  CHECK(table.exit_code == 0);
  INFO(table.out);
  const bool client_line = table.out.find("(19 days left)") != std::string::npos ||
                           table.out.find("(20 days left)") != std::string::npos;
  CHECK(client_line);
  CHECK_THAT(table.out, Catch::Contains("CERTIFICATE client " + cluster->client_cert_file()));
  for (int i = 0; i < cluster->size(); ++i) {
    const std::string line =
        "CERTIFICATE server " + cluster->member_name(i) + " " + cluster->client_endpoint(i);
    const auto at = table.out.find(line);
    REQUIRE(at != std::string::npos);
    const std::string rest = table.out.substr(at, table.out.find('\n', at) - at);
    CHECK((rest.ends_with("(4 days left)") || rest.ends_with("(5 days left)")));
  }
  args.insert(args.end(), {"-w", "json"});
  const CommandResult json = run_edd(args);
  CHECK(json.exit_code == 0);
  const boost::json::value doc = parse_json(json.out);
  REQUIRE(doc.as_array().size() == 3);
  for (const auto& v : doc.as_array()) {
    const auto& m = v.as_object();
    const auto& server = m.at("serverCertificate").as_object();
    const auto& client = m.at("clientCertificate").as_object();
    CHECK(server.at("notAfterUnix").as_int64() == server_not_after);
    CHECK(client.at("notAfterUnix").as_int64() == client_not_after);
    const auto server_days = server.at("daysLeft").as_int64();
    const auto client_days = client.at("daysLeft").as_int64();
    CHECK((server_days == 4 || server_days == 5));
    CHECK((client_days == 19 || client_days == 20));
    CHECK(server.at("error").is_null());
  }

  // The cost of one handshake of our own (printed for the record, not a pass/fail figure).
  edd::etcd::ClientOptions client_options;
  client_options.ca_file = cluster->ca_file();
  client_options.cert_file = cluster->client_cert_file();
  client_options.key_file = cluster->client_key_file();
  auto settings = edd::tls::probe_settings(client_options);
  REQUIRE(settings);
  constexpr int kRounds = 20;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    CHECK(edd::tls::probe_server_certificate(*settings, cluster->client_endpoint(1)).error.empty());
  }
  const auto per =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start) / kRounds;
  std::printf("certificates: one TLS handshake with a member took %.2f ms on average\n",
              per.count());

  // A stopped member: the daemon keeps running, the member's series goes at the next check
  // (SIGHUP makes it due), the failure is warned once however often it is seen again.
  cluster->stop_member(2);
  daemon.signal(SIGHUP);
  REQUIRE(eventually(20s, [&] { return daemon.metric(server_series(*cluster, 2)) < 0; }));
  CHECK(daemon.running());
  CHECK(daemon.metric(server_series(*cluster, 0)) == static_cast<double>(server_not_after));
  CHECK(daemon.metric(kClientSeries) == static_cast<double>(client_not_after));
  const std::string warning = "certificate: the TLS handshake with " + cluster->member_name(2) +
                              " (" + cluster->client_endpoint(2) + ") failed";
  daemon.signal(SIGHUP);
  std::this_thread::sleep_for(4s);
  CHECK(daemon.running());
  CHECK(count_of(daemon.log(), warning) == 1);
  CHECK(daemon.stop(SIGTERM) == 0);
}
