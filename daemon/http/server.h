// The daemon's one HTTP/1.1 listener (Boost.Beast, optional TLS or mTLS) on the caller's
// io_context; it owns its acceptor and connections, the caller owns the loop (which outlives it).
// Not thread-safe: construct, route, start and stop on the loop's thread (or before it runs).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "http/message.h"
#include "http/router.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace edd::http {

namespace detail {
struct ServerState;  // the acceptor, the TLS context, the routes and the open connections
}  // namespace detail

struct TlsFiles {
  std::string cert_file;       // PEM chain, the server's certificate first
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // when set, clients must present a certificate it signed (mTLS)
};

struct ServerOptions {
  // From config::ListenAddress: an IPv4/IPv6 literal (no brackets) or a name; "::" or
  // "0.0.0.0" for every address.
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port, see Server::port()
  std::optional<TlsFiles> tls;
  std::size_t header_limit_bytes = 16 * 1024;  // beyond: 431
  std::size_t body_limit_bytes = 1024 * 1024;  // beyond: 413
  // From waiting for a request (keep-alive idle included) or a TLS handshake to having all of
  // it; a client that trickles bytes (slowloris) is closed when it runs out.
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};
  // After an error answer (400/413/431) the rest of the request is drained this long, so the
  // client reads the answer instead of a reset.
  std::chrono::milliseconds linger_timeout{1'000};
  std::size_t max_connections = 64;  // beyond: accepted and closed at once
};

// Told of every answer, the server's own 400/413/431 included (method and path are empty when
// the request line could not be read): how the webhook counts requests by code. Must not throw.
using ResponseObserver =
    std::function<void(std::string_view method, std::string_view path, unsigned status)>;

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, LogSink log = {});
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Router& router();  // add routes before start() or on the loop
  void on_response(ResponseObserver observer);

  // Loads the TLS files, binds and starts accepting; errors name the address or the file.
  Status start();
  std::uint16_t port() const;  // the bound port (the ephemeral one when options.port is 0)
  std::size_t connection_count() const;

  // Closes the acceptor, then every connection; the loop then runs out of our work.
  void stop();

 private:
  std::shared_ptr<detail::ServerState> state_;  // shared with the connections' coroutines
};

}  // namespace edd::http
