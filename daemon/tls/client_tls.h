// The TLS side of the connections we make to etcd members beside gRPC's own (the quota probe's
// /metrics scrape, the certificate-expiry handshake): the etcd client's files, read once, and
// the OpenSSL context both build from them the same way. Plain values and free functions.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <string>

#include "common/result.h"
#include "etcd/client_options.h"

namespace edd::tls {

struct ClientTls {
  bool tls_for_bare_endpoints = false;  // "host:port" endpoints use TLS (etcdctl's rule)
  bool skip_verify = false;
  std::string ca_pem, cert_pem, key_pem;  // key_pem never leaves this struct
};

// Reads the files named in options; an error names the option whose file cannot be read.
Result<ClientTls> read_client_tls(const etcd::ClientOptions& options);

// Whether the endpoint is reached over TLS with these settings.
bool uses_tls(const ClientTls& tls, const std::string& endpoint);

// Verifies the peer with the configured CA (the system's when none is set; not at all with
// skip_verify) and presents the client certificate when there is one.
void configure_client_context(boost::asio::ssl::context& ctx, const ClientTls& tls);

}  // namespace edd::tls
