// status's certificate lines and JSON fields, from a report made by hand (no handshake).
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "cli/certificate_output.h"
#include "cli/status_output.h"

using namespace edd;
using namespace edd::cli;

namespace {

constexpr std::int64_t kNow = 1798042200;  // 2026-12-23T16:10:00Z
constexpr std::int64_t kDay = 86400;

std::vector<etcd::MemberSnapshot> members() {
  std::vector<etcd::MemberSnapshot> v(2);
  v[0].endpoint = "https://10.0.0.11:2379";
  v[0].name = "m0";
  v[1].endpoint = "https://10.0.0.12:2379";
  v[1].error = "connection refused";
  return v;
}

CertificateReport report() {
  CertificateReport r;
  r.tls = true;
  r.now_unix = kNow;
  r.client_file = "/etc/etcd-defragd/client.crt";
  r.client_not_after = kNow + 20 * kDay - 60;
  r.servers["https://10.0.0.11:2379"] = {kNow + 5 * kDay - 60, ""};
  r.servers["https://10.0.0.12:2379"] = {std::nullopt, "Connection refused"};
  return r;
}

}  // namespace

TEST_CASE("status prints one CERTIFICATE line for the client and one per TLS member") {
  CHECK(render_certificate_lines(report(), members()) ==
        "CERTIFICATE client /etc/etcd-defragd/client.crt: expires 2027-01-12T16:09:00Z (19 days "
        "left)\n"
        "CERTIFICATE server m0 https://10.0.0.11:2379: expires 2026-12-28T16:09:00Z (4 days left)\n"
        "CERTIFICATE server https://10.0.0.12:2379: expiry unknown (handshake failed: Connection "
        "refused)\n");
}

TEST_CASE("status prints no certificate line without TLS") {
  CHECK(render_certificate_lines(CertificateReport{}, members()).empty());
}

TEST_CASE("status JSON carries clientCertificate and serverCertificate per member") {
  const auto doc =
      boost::json::parse(add_certificates_to_json(render_status_json(members()), report()));
  const auto& a = doc.as_array();
  REQUIRE(a.size() == 2);
  const auto& m0 = a[0].as_object();
  CHECK(m0.at("serverCertificate").at("daysLeft").as_int64() == 4);
  CHECK(m0.at("serverCertificate").at("notAfter").as_string() == "2026-12-28T16:09:00Z");
  CHECK(m0.at("serverCertificate").at("notAfterUnix").as_int64() == kNow + 5 * kDay - 60);
  CHECK(m0.at("serverCertificate").at("error").is_null());
  CHECK(m0.at("clientCertificate").at("daysLeft").as_int64() == 19);
  const auto& m1 = a[1].as_object();
  CHECK(m1.at("serverCertificate").at("daysLeft").is_null());
  CHECK(m1.at("serverCertificate").at("error").as_string() == "Connection refused");
  // The existing fields are still there.
  CHECK(m1.at("error").as_string() == "connection refused");
}

TEST_CASE("status JSON has null certificates without TLS") {
  const auto doc = boost::json::parse(
      add_certificates_to_json(render_status_json(members()), CertificateReport{}));
  for (const auto& v : doc.as_array()) {
    CHECK(v.at("clientCertificate").is_null());
    CHECK(v.at("serverCertificate").is_null());
  }
}
