// Reads certificates' expiry: the client certificate from its PEM, and a member's serving
// certificate from a TLS handshake of our own on its client URL (gRPC does not show the peer's
// certificate). Thread-safe: each probe has its own connection; settings are plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "etcd/client_options.h"
#include "tls/client_tls.h"

namespace edd::tls {

// The TLS files as read when the etcd client was built (so the expiry is that of the
// certificate in use, not of a file renewed since), and how long to wait for a member.
struct ProbeSettings : ClientTls {
  std::chrono::milliseconds timeout{2000};  // connect and handshake together
};

// Reads the files named in options; an error names the file that cannot be read.
Result<ProbeSettings> probe_settings(const etcd::ClientOptions& options);

struct ServerCertificate {
  // The leaf's notAfter as presented, also when verification failed (an expired certificate
  // is the case that matters most); empty when no certificate was seen.
  std::optional<std::int64_t> not_after_unix;
  std::string error;  // "" when the handshake completed and verified
};

// Connects, handshakes (verifying the chain with the configured CA, presenting the client
// certificate when there is one), reads the leaf's notAfter and closes, within settings.timeout.
// The host name is not checked here: the gRPC client does that; this only reads the expiry.
// Never throws; sends no application data.
ServerCertificate probe_server_certificate(const ProbeSettings& settings,
                                           const std::string& endpoint);

}  // namespace edd::tls
