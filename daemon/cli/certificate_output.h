// `status`'s certificate lines: days left of the client certificate given with --cert and of each
// member's serving certificate (read by a TLS handshake of our own), under the table and as
// `clientCertificate` / `serverCertificate` in each member's JSON object. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etcd/client_options.h"
#include "etcd/member_snapshot.h"
#include "tls/certificate_probe.h"

namespace edd::cli {

struct CertificateReport {
  bool tls = false;  // some member is reached over TLS; otherwise nothing is shown
  std::string client_file;
  std::optional<std::int64_t> client_not_after;
  std::map<std::string, tls::ServerCertificate> servers;  // by endpoint, TLS members only
  std::int64_t now_unix = 0;
};

// Handshakes with every TLS member in parallel (each bounded by the dial timeout).
CertificateReport check_certificates(const etcd::ClientOptions& options,
                                     const std::vector<etcd::MemberSnapshot>& view);

// "CERTIFICATE client /etc/.../client.crt: expires 2026-12-23T16:10:00Z (19 days left)", then
// one line per TLS member; "" when no TLS is used.
std::string render_certificate_lines(const CertificateReport& report,
                                     const std::vector<etcd::MemberSnapshot>& view);

// status_json (render_status_json's array) with both fields added to each member's object.
std::string add_certificates_to_json(const std::string& status_json,
                                     const CertificateReport& report);

}  // namespace edd::cli
