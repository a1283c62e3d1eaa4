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
  std::size_t header_limit_bytes = std::size_t{16} * 1024;  // beyond: 431
  std::size_t body_limit_bytes = std::size_t{1024} * 1024;  // beyond: 413
  // A client that holds connections open without finishing a request (a slowloris) must not
  // lock out Prometheus or Alertmanager. The defaults need no tuning: Prometheus, Alertmanager
  // and a few probes hold a handful of connections each.
  //
  // From the connection's start (after its TLS handshake), or from the first byte of a later
  // request on a kept-alive connection, to having the request's head; trickling bytes does not
  // extend it.
  std::chrono::milliseconds request_head_timeout{5'000};
  // From the start of a request to having all of it, body included.
  std::chrono::milliseconds request_timeout{10'000};
  // How long a kept-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{30'000};
  std::chrono::milliseconds tls_handshake_timeout{5'000};  // HTTPS only
  std::chrono::milliseconds write_timeout{10'000};
  // After an error answer (400/413/431) the rest of the request is drained this long, so the
  // client reads the answer instead of a reset.
  std::chrono::milliseconds linger_timeout{1'000};
  // When the listener is full, a new connection evicts the oldest one that has not delivered a
  // complete request yet; it is refused only when every open connection has. Connections that
  // did complete a request stay until their idle timeout.
  std::size_t max_connections = 256;
  // Per client IP address, the same way: at the cap, the address's own oldest incomplete
  // connection makes room. Loopback clients are limited like any other address.
  std::size_t max_connections_per_address = 32;
};

// What the listener refused or cut short to stay available, for a counter by reason.
enum class ConnectionEvent {
  kRefusedListenerFull,     // every open connection had completed a request: refused
  kRefusedPerAddressLimit,  // the same, among the client address's own connections
  kEvictedIncomplete,       // closed to make room: it had not delivered a complete request
  kHeadTimeout,             // no complete request head within request_head_timeout
  kRequestTimeout,          // head in time, but not the body within request_timeout
  kTlsHandshakeTimeout,     // no TLS handshake within tls_handshake_timeout
};
inline constexpr ConnectionEvent kConnectionEvents[] = {
    ConnectionEvent::kRefusedListenerFull, ConnectionEvent::kRefusedPerAddressLimit,
    ConnectionEvent::kEvictedIncomplete,   ConnectionEvent::kHeadTimeout,
    ConnectionEvent::kRequestTimeout,      ConnectionEvent::kTlsHandshakeTimeout};

// The metric's reason label: "listener_full", "per_address_limit", "evicted_incomplete",
// "head_timeout", "request_timeout", "tls_handshake_timeout".
std::string_view connection_event_name(ConnectionEvent event);

// Told of every refused, evicted or timed-out connection with the client's address (no port).
// Called on the loop's thread; must not throw.
using ConnectionObserver =
    std::function<void(ConnectionEvent event, std::string_view client_address)>;

// Told of every answer, the server's own 400/413/431 included (method and path are empty when
// the request line could not be read): how the webhook counts requests by code. Must not throw.
using ResponseObserver =
    std::function<void(std::string_view method, std::string_view path, unsigned status)>;

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, LogSink log = {});
  ~Server();  // stop(); never throws
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Router& router();  // add routes before start() or on the loop
  void on_response(ResponseObserver observer);
  void on_connection_event(ConnectionObserver observer);

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
