#include "tls/client_tls.h"

#include <fstream>
#include <sstream>

#include "etcd/endpoint.h"

namespace edd::tls {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

Result<std::string> read_file(const std::string& key, const std::string& path) {
  if (path.empty()) return std::string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kInvalidArgument, key + ": cannot read \"" + path + "\"");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<ClientTls> read_client_tls(const etcd::ClientOptions& options) {
  ClientTls t;
  t.tls_for_bare_endpoints = options.has_tls_files() || !options.insecure_transport;
  t.skip_verify = options.insecure_skip_tls_verify;
  auto ca = read_file("cacert", options.ca_file);
  if (!ca) return ca.error();
  auto cert = read_file("cert", options.cert_file);
  if (!cert) return cert.error();
  auto key = read_file("key", options.key_file);
  if (!key) return key.error();
  t.ca_pem = std::move(*ca);
  t.cert_pem = std::move(*cert);
  t.key_pem = std::move(*key);
  return t;
}

bool uses_tls(const ClientTls& tls, const std::string& endpoint) {
  auto ep = etcd::parse_endpoint(endpoint);
  if (!ep) return false;
  return ep->scheme == etcd::Scheme::kHttps ||
         (ep->scheme == etcd::Scheme::kNone && tls.tls_for_bare_endpoints);
}

void configure_client_context(ssl::context& ctx, const ClientTls& tls) {
  if (tls.skip_verify) {
    ctx.set_verify_mode(ssl::verify_none);
  } else {
    ctx.set_verify_mode(ssl::verify_peer);
    if (tls.ca_pem.empty()) {
      ctx.set_default_verify_paths();
    } else {
      ctx.add_certificate_authority(asio::buffer(tls.ca_pem));
    }
  }
  if (!tls.cert_pem.empty()) {
    ctx.use_certificate_chain(asio::buffer(tls.cert_pem));
    ctx.use_private_key(asio::buffer(tls.key_pem), ssl::context::pem);
  }
}

}  // namespace edd::tls
