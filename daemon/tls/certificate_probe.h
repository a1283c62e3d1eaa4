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

namespace edd::tls {

// The TLS files as read when the etcd client was built (so the expiry is that of the
// certificate in use, not of a file renewed since), and how to reach a member.
struct ProbeSettings {
  bool tls_for_bare_endpoints = false;  // "host:port" endpoints use TLS (etcdctl's rule)
  bool skip_verify = false;
  std::string ca_pem, cert_pem, key_pem;    // key_pem never leaves this struct
  std::chrono::milliseconds timeout{2000};  // connect and handshake together
};

// Reads the files named in options; an error names the file that cannot be read.
Result<ProbeSettings> probe_settings(const etcd::ClientOptions& options);

// Whether the endpoint is reached over TLS with these settings.
bool uses_tls(const ProbeSettings& settings, const std::string& endpoint);

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
