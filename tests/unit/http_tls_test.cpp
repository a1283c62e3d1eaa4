#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <filesystem>

#include "http_test_support.h"

using namespace edd_test;
using edd::http::ServerOptions;
using edd::http::TlsFiles;
namespace fs = std::filesystem;

namespace {

// Throw-away self-signed certificates made with the openssl CLI in a temp dir, removed at exit.
struct Pki {
  fs::path dir;
  fs::path server_crt, server_key, client_crt, client_key, stranger_crt, stranger_key;

  Pki() {
    std::string tmpl = (fs::temp_directory_path() / "edd-http-tls-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    server_crt = dir / "server.crt";
    server_key = dir / "server.key";
    client_crt = dir / "client.crt";
    client_key = dir / "client.key";
    stranger_crt = dir / "stranger.crt";
    stranger_key = dir / "stranger.key";
    make(server_crt, server_key, "/CN=127.0.0.1", " -addext subjectAltName=IP:127.0.0.1");
    make(client_crt, client_key, "/CN=edd-test-client", "");
    make(stranger_crt, stranger_key, "/CN=edd-test-stranger", "");
  }
  ~Pki() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  static void make(const fs::path& crt, const fs::path& key, const std::string& subject,
                   const std::string& extra) {
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
        " -keyout '" +
        key.string() + "' -out '" + crt.string() + "' -subj '" + subject + "'" + extra +
        " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
};

const Pki& pki() {
  static const Pki instance;
  return instance;
}

asio::ssl::context client_context(const fs::path* cert = nullptr, const fs::path* key = nullptr) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(pki().server_crt.string());
  ctx.set_verify_mode(asio::ssl::verify_peer);
  if (cert) {
    ctx.use_certificate_chain_file(cert->string());
    ctx.use_private_key_file(key->string(), asio::ssl::context::pem);
  }
  return ctx;
}

asio::awaitable<Reply> tls_get(asio::io_context& io, asio::ssl::context& ctx, std::uint16_t port,
                               std::string target) {
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  auto& lowest = beast::get_lowest_layer(stream);
  Reply failed;
  lowest.expires_after(5s);
  co_await lowest.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                redirect(failed.ec));
  if (failed.ec) co_return failed;
  co_await stream.async_handshake(asio::ssl::stream_base::client, redirect(failed.ec));
  if (failed.ec) co_return failed;
  beast::flat_buffer buffer;
  co_return co_await exchange(stream, buffer, make_request(bhttp::verb::get, target));
}

ServerOptions tls_options(bool mtls) {
  ServerOptions o;
  o.tls = TlsFiles{pki().server_crt.string(), pki().server_key.string(),
                   mtls ? pki().client_crt.string() : ""};
  return o;
}

}  // namespace

TEST_CASE("http serves GET /metrics over TLS") {
  Harness h(tls_options(false));
  auto ctx = client_context();
  const auto reply = h.run(tls_get(h.io(), ctx, h.port(), "/metrics"));
  CHECK(reply.status == 200);
  CHECK(reply.body == h.metrics_text);
}

TEST_CASE("http with a client CA rejects clients without a trusted certificate (mTLS)") {
  Harness h(tls_options(true));
  SECTION("no client certificate") {
    auto ctx = client_context();
    const auto reply = h.run(tls_get(h.io(), ctx, h.port(), "/metrics"));
    CHECK(reply.status == 0);
    CHECK(reply.ec);
  }
  SECTION("a certificate the client CA did not sign") {
    auto ctx = client_context(&pki().stranger_crt, &pki().stranger_key);
    const auto reply = h.run(tls_get(h.io(), ctx, h.port(), "/metrics"));
    CHECK(reply.status == 0);
  }
  SECTION("a certificate the client CA signed") {
    auto ctx = client_context(&pki().client_crt, &pki().client_key);
    const auto reply = h.run(tls_get(h.io(), ctx, h.port(), "/metrics"));
    CHECK(reply.status == 200);
  }
  // Whatever was refused, the listener keeps serving.
  auto ctx = client_context(&pki().client_crt, &pki().client_key);
  CHECK(h.run(tls_get(h.io(), ctx, h.port(), "/healthz")).status == 200);
}

TEST_CASE("http plain HTTP on the TLS port closes that connection and TLS is still served") {
  Harness h(tls_options(false));
  const auto drained =
      h.run([](asio::io_context& io, std::uint16_t port) -> asio::awaitable<Client::Drained> {
        Client c(io);
        co_await c.connect(port);
        co_await c.write_raw("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        co_return co_await c.read_until_closed(5s);
      }(h.io(), h.port()));
  CHECK(drained.closed_by_server);
  CHECK(drained.data.find("HTTP/1.1 200") == std::string::npos);
  auto ctx = client_context();
  CHECK(h.run(tls_get(h.io(), ctx, h.port(), "/metrics")).status == 200);
}

TEST_CASE("http TLS start fails naming an unreadable or mismatched file") {
  asio::io_context io;
  SECTION("a missing certificate") {
    auto o = tls_options(false);
    o.tls->cert_file = (pki().dir / "missing.crt").string();
    edd::http::Server s(io, o);
    const auto r = s.start();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("missing.crt") != std::string::npos);
  }
  SECTION("a key that does not match the certificate") {
    auto o = tls_options(false);
    o.tls->key_file = pki().client_key.string();
    edd::http::Server s(io, o);
    const auto r = s.start();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("client.key") != std::string::npos);
  }
  SECTION("a missing client CA") {
    auto o = tls_options(true);
    o.tls->client_ca_file = (pki().dir / "missing-ca.crt").string();
    edd::http::Server s(io, o);
    const auto r = s.start();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("missing-ca.crt") != std::string::npos);
  }
}

TEST_CASE("http a TLS client that never finishes its handshake is cut at the deadline, counted") {
  auto o = tls_options(false);
  o.tls_handshake_timeout = 300ms;
  Harness h(o);
  std::vector<std::string> events;
  h.server().on_connection_event([&events](edd::http::ConnectionEvent e, std::string_view a) {
    events.push_back(std::string(edd::http::connection_event_name(e)) + " " + std::string(a));
  });
  const auto started = std::chrono::steady_clock::now();
  const auto drained =
      h.run([](asio::io_context& io, std::uint16_t port) -> asio::awaitable<Client::Drained> {
        Client c(io);
        co_await c.connect(port);
        co_await c.write_raw(std::string("\x16\x03\x01\x00\xf1\x01", 6));  // half a ClientHello
        co_return co_await c.read_until_closed(5s);
      }(h.io(), h.port()));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(drained.closed_by_server);
  CHECK(elapsed >= 250ms);
  CHECK(elapsed < 3s);
  CHECK(events == std::vector<std::string>{"tls_handshake_timeout 127.0.0.1"});
  auto ctx = client_context();
  CHECK(h.run(tls_get(h.io(), ctx, h.port(), "/metrics")).status == 200);
}

TEST_CASE("http pending TLS handshakes make room for a client that completes one") {
  auto o = tls_options(false);
  o.max_connections_per_address = 3;
  Harness h(o);
  std::size_t evicted = 0;
  h.server().on_connection_event([&evicted](edd::http::ConnectionEvent e, std::string_view) {
    if (e == edd::http::ConnectionEvent::kEvictedIncomplete) ++evicted;
  });
  std::vector<std::unique_ptr<Client>> stalled;
  for (int i = 0; i < 3; ++i) {
    stalled.push_back(std::make_unique<Client>(h.io()));
    REQUIRE(h.run(stalled.back()->connect(h.port())));
  }
  h.run_until([&] { return h.server().connection_count() == 3; });
  auto ctx = client_context();
  CHECK(h.run(tls_get(h.io(), ctx, h.port(), "/metrics")).status == 200);
  CHECK(evicted == 1);
  CHECK(h.run(stalled.front()->read_until_closed(3s)).closed_by_server);
}
