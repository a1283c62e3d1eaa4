#include "tls/certificate_probe.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

#include "etcd/endpoint.h"
#include "tls/certificate_time.h"

namespace edd::tls {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

// What the handshake saw of the leaf certificate, filled from OpenSSL's verify callback: it is
// called for the leaf (depth 0) even when verification fails, e.g. for an expired certificate.
struct Seen {
  std::optional<std::int64_t> not_after;
  int verify_error = X509_V_OK;
};

void configure(ssl::context& ctx, const ProbeSettings& s, Seen& seen) {
  configure_client_context(ctx, s);
  ctx.set_verify_callback([&seen](bool preverified, ssl::verify_context& vc) {
    X509_STORE_CTX* store = vc.native_handle();
    if (X509_STORE_CTX_get_error_depth(store) == 0) {
      if (X509* leaf = X509_STORE_CTX_get_current_cert(store); leaf != nullptr) {
        seen.not_after = asn1_time_to_unix(X509_get0_notAfter(leaf));
      }
    }
    if (!preverified && seen.verify_error == X509_V_OK) {
      seen.verify_error = X509_STORE_CTX_get_error(store);
    }
    return preverified;
  });
}

// With verify_none OpenSSL skips the callback: read the leaf from the finished session.
void read_peer(SSL* ssl, Seen& seen) {
  if (seen.not_after) return;
  if (X509* peer = SSL_get1_peer_certificate(ssl); peer != nullptr) {
    seen.not_after = asn1_time_to_unix(X509_get0_notAfter(peer));
    X509_free(peer);
  }
}

}  // namespace

Result<ProbeSettings> probe_settings(const etcd::ClientOptions& options) {
  auto files = read_client_tls(options);
  if (!files) return files.error();
  ProbeSettings s;
  static_cast<ClientTls&>(s) = std::move(*files);
  s.timeout = options.dial_timeout;
  return s;
}

ServerCertificate probe_server_certificate(const ProbeSettings& settings,
                                           const std::string& endpoint) {
  ServerCertificate out;
  auto ep = etcd::parse_endpoint(endpoint);
  if (!ep) return {std::nullopt, ep.error().message};
  Seen seen;
  boost::system::error_code ec;
  try {
    asio::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    configure(ctx, settings, seen);
    ssl::stream<asio::ip::tcp::socket> stream(ioc, ctx);
    SSL_set_tlsext_host_name(stream.native_handle(), ep->host.c_str());
    asio::ip::tcp::resolver resolver(ioc);
    auto results = resolver.resolve(ep->host, std::to_string(ep->port));
    asio::async_connect(
        stream.lowest_layer(), results, [&](const boost::system::error_code& e, const auto&) {
          if (e) {
            ec = e;
            return;
          }
          stream.async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& h) {
            ec = h;
            if (!h) read_peer(stream.native_handle(), seen);
          });
        });
    ioc.run_for(settings.timeout);
    if (!ioc.stopped()) {  // neither connected and handshaken nor failed in time
      ec = asio::error::timed_out;
    }
    boost::system::error_code ignored;
    stream.lowest_layer().close(ignored);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  out.not_after_unix = seen.not_after;
  if (out.error.empty() && ec) {
    out.error = seen.verify_error != X509_V_OK
                    ? std::string("certificate verify failed: ") +
                          X509_verify_cert_error_string(seen.verify_error)
                    : ec.message();
  }
  return out;
}

}  // namespace edd::tls
