#include "http/server.h"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <exception>
#include <map>
#include <set>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "common/clock.h"
#include "http/log_limiter.h"

namespace edd::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using beast::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::chrono::milliseconds kAcceptBackoff{100};
constexpr std::size_t kMaxDrainBytes = std::size_t{8} * 1024 * 1024;

auto redirect(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

std::string endpoint_text(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" +
         std::to_string(ep.port());
}

bool is_http_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

// The answer to a request that could not be read, or 0 to close without one: a peer that went
// away, timed out or is not speaking HTTP at all on the transport level.
unsigned status_for_read_error(const error_code& ec) {
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return 0;
  return is_http_error(ec) ? 400 : 0;
}

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

Request to_request(bhttp::request<bhttp::string_body>&& in, const std::string& remote, bool tls) {
  Request r;
  r.method = std::string(in.method_string());
  r.target = std::string(in.target());
  const auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  for (const auto& field : in) {
    r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  r.body = std::move(in.body());
  r.remote_address = remote;
  r.tls = tls;
  return r;
}

bhttp::response<bhttp::string_body> to_beast(Response&& r, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> res;
  res.version(version);
  res.result(r.status >= 100 && r.status <= 599 ? r.status : 500U);
  res.set(bhttp::field::server, "etcd-defragd");
  res.set(bhttp::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) {
    // A handler's header must not smuggle a second header or response into ours.
    if (!name.empty() && !has_line_break(name) && !has_line_break(value)) res.set(name, value);
  }
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

}  // namespace

std::string_view connection_event_name(ConnectionEvent event) {
  switch (event) {
    case ConnectionEvent::kRefusedListenerFull:
      return "listener_full";
    case ConnectionEvent::kRefusedPerAddressLimit:
      return "per_address_limit";
    case ConnectionEvent::kEvictedIncomplete:
      return "evicted_incomplete";
    case ConnectionEvent::kHeadTimeout:
      return "head_timeout";
    case ConnectionEvent::kRequestTimeout:
      return "request_timeout";
    case ConnectionEvent::kTlsHandshakeTimeout:
      return "tls_handshake_timeout";
  }
  return "unknown";
}

// One open connection, as the admission and eviction decisions see it.
namespace detail {
struct OpenConnection {
  std::string address;          // the client's IP address, no port: the per-address cap's key
  std::function<void()> close;  // closes its socket; its coroutine then ends
};
}  // namespace detail

struct detail::ServerState {
  ServerState(asio::io_context& io_context, ServerOptions o, LogSink l)
      : io(io_context), options(std::move(o)), log(std::move(l)), acceptor(io), backoff(io) {}

  void emit(LogLevel level, const std::string& line) const noexcept {
    if (!log) return;
    try {
      log(level, "http: " + line);
    } catch (...) {  // logging never takes the server down
    }
  }

  void observe(std::string_view method, std::string_view path, unsigned status) const noexcept {
    if (!observer) return;
    try {
      observer(method, path, status);
    } catch (...) {  // an observer never takes the server down
    }
  }

  // Counts the event and logs it, at most one line per reason a minute: a flood of refused
  // connections must not flood the log too.
  void report(ConnectionEvent event, const std::string& address, const std::string& line) noexcept {
    if (connection_observer) {
      try {
        connection_observer(event, address);
      } catch (...) {  // an observer never takes the server down
      }
    }
    try {
      if (const auto held_back = log_limiter.admit(connection_event_name(event))) {
        emit(LogLevel::kWarning, line + held_back_note(*held_back));
      }
    } catch (...) {  // out of memory for a log line: the connection is handled all the same
    }
  }

  void add(std::uint64_t id, detail::OpenConnection connection) {
    ++per_address[connection.address];
    connections.emplace(id, std::move(connection));
    incomplete.insert(id);
  }

  // Idempotent: an evicted connection is forgotten at once, and again when its coroutine ends.
  void forget(std::uint64_t id) {
    const auto it = connections.find(id);
    if (it == connections.end()) return;
    if (const auto a = per_address.find(it->second.address); a != per_address.end()) {
      if (--a->second == 0) per_address.erase(a);
    }
    incomplete.erase(id);
    connections.erase(it);
  }

  std::size_t count_of(const std::string& address) const {
    const auto it = per_address.find(address);
    return it == per_address.end() ? 0 : it->second;
  }

  asio::io_context& io;
  ServerOptions options;
  LogSink log;
  ResponseObserver observer;
  ConnectionObserver connection_observer;
  SystemClock clock;
  LogRateLimiter log_limiter{clock};
  Router router;
  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  std::optional<asio::ssl::context> tls;
  std::uint16_t port = 0;
  bool stopping = false;
  std::uint64_t next_id = 0;  // ids grow with age: the smallest is the oldest
  std::map<std::uint64_t, detail::OpenConnection> connections;
  // Connections that have not delivered a complete request yet (handshake or head pending),
  // oldest first: the ones a new connection may evict.
  std::set<std::uint64_t> incomplete;
  std::unordered_map<std::string, std::size_t> per_address;
};

namespace {

using StatePtr = std::shared_ptr<detail::ServerState>;

// Removes the connection from the registry however its coroutine ends.
struct Registration {
  StatePtr state;
  std::uint64_t id;
  ~Registration() { state->forget(id); }
};

// After an answer that ends the connection: stop sending, then read and drop what the client
// still sends for a moment, so it reads our answer rather than a TCP reset.
asio::awaitable<void> close_gracefully(beast::tcp_stream& stream,
                                       std::chrono::milliseconds linger) {
  error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(linger);
  char sink[16 * 1024];
  std::size_t drained = 0;
  while (!ec && drained < kMaxDrainBytes) {
    drained += co_await stream.async_read_some(asio::buffer(sink), redirect(ec));
  }
  stream.close();
}

asio::awaitable<void> close_gracefully(TlsStream& stream, std::chrono::milliseconds linger) {
  error_code ec;
  beast::get_lowest_layer(stream).expires_after(linger);
  co_await stream.async_shutdown(redirect(ec));  // close_notify, bounded by the linger time
  beast::get_lowest_layer(stream).close();
}

template <class Stream>
asio::awaitable<bool> write_response(Stream& stream, const detail::ServerState& s, Response&& r,
                                     unsigned version, bool keep_alive) {
  auto res = to_beast(std::move(r), version, keep_alive);
  beast::get_lowest_layer(stream).expires_after(s.options.write_timeout);
  error_code ec;
  co_await bhttp::async_write(stream, res, redirect(ec));
  co_return !ec;
}

std::string millis_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

using Parser = bhttp::request_parser<bhttp::string_body>;

// One connection's requests, one after the other, on its coroutine.
template <class Stream>
class Session {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(StatePtr state, std::uint64_t id, Stream& stream, std::string remote, std::string address)
      : s_(std::move(state)),
        id_(id),
        stream_(stream),
        remote_(std::move(remote)),
        address_(std::move(address)) {}

  asio::awaitable<void> run() {
    if constexpr (kTls) {
      if (!co_await handshake()) co_return;
    }
    for (bool first = true; !s_->stopping; first = false) {
      if (!first && !co_await await_next_request()) co_return;
      Parser parser;
      parser.header_limit(static_cast<std::uint32_t>(opt().header_limit_bytes));
      parser.body_limit(opt().body_limit_bytes);
      const error_code ec = co_await read_request(parser);
      if (s_->stopping) co_return;
      if (ec) {
        co_await answer_read_error(ec, parser);
        co_return;
      }
      s_->incomplete.erase(id_);  // it delivered a request: no longer evicted to make room
      if (!co_await answer(parser)) co_return;
    }
  }

 private:
  const ServerOptions& opt() const { return s_->options; }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  asio::awaitable<bool> handshake() {
    error_code ec;
    lowest().expires_after(opt().tls_handshake_timeout);
    co_await stream_.async_handshake(asio::ssl::stream_base::server, redirect(ec));
    if (ec == beast::error::timeout) {
      s_->report(ConnectionEvent::kTlsHandshakeTimeout, address_,
                 remote_ + ": closed: no TLS handshake within " +
                     millis_text(opt().tls_handshake_timeout));
    } else if (ec) {  // plain HTTP, garbage, a client without a valid certificate
      s_->emit(LogLevel::kDebug, remote_ + ": TLS handshake failed: " + ec.message());
    }
    co_return !ec;
  }

  // A kept-alive connection waits up to idle_timeout for the first byte of its next request;
  // the head's own deadline starts then. False when it closes or stays silent.
  asio::awaitable<bool> await_next_request() {
    if (buffer_.size() > 0) co_return true;  // pipelined: the next request is already here
    error_code ec;
    lowest().expires_after(opt().idle_timeout);
    const std::size_t n =
        co_await stream_.async_read_some(buffer_.prepare(kIdleReadBytes), redirect(ec));
    buffer_.commit(n);
    if (ec && ec != bhttp::error::end_of_stream && ec != asio::error::eof) {
      s_->emit(LogLevel::kDebug, remote_ + ": kept-alive connection closed: " + ec.message());
    }
    co_return !ec && n > 0;
  }

  // The head within request_head_timeout, the whole request within request_timeout; trickling
  // bytes extends neither.
  asio::awaitable<error_code> read_request(Parser& parser) {
    error_code ec;
    const auto started = std::chrono::steady_clock::now();
    lowest().expires_after(opt().request_head_timeout);
    co_await bhttp::async_read_header(stream_, buffer_, parser, redirect(ec));
    if (ec == beast::error::timeout) {
      s_->report(ConnectionEvent::kHeadTimeout, address_,
                 remote_ + ": closed: no complete request head within " +
                     millis_text(opt().request_head_timeout));
    }
    if (ec || parser.is_done()) co_return ec;
    lowest().expires_at(started + opt().request_timeout);
    // curl waits for this before sending a body larger than 1 KiB.
    if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, parser.get().version()};
      co_await bhttp::async_write(stream_, go_on, redirect(ec));
    }
    if (!ec) co_await bhttp::async_read(stream_, buffer_, parser, redirect(ec));
    if (ec == beast::error::timeout) {
      s_->report(
          ConnectionEvent::kRequestTimeout, address_,
          remote_ + ": closed: no complete request within " + millis_text(opt().request_timeout));
    }
    co_return ec;
  }

  asio::awaitable<void> answer_read_error(const error_code& ec, Parser& parser) {
    const unsigned status = status_for_read_error(ec);
    if (status == 0) {
      if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout) {
        s_->emit(LogLevel::kDebug, remote_ + ": closed: " + ec.message());
      }
      co_return;
    }
    s_->emit(LogLevel::kDebug,
             remote_ + ": bad request (" + std::to_string(status) + "): " + ec.message());
    // Beast fills in the request line before it checks the fields, so a 413 (Content-Length
    // over the limit) still names its route: the webhook counts it.
    if (const auto target = std::string_view(parser.get().target()); !target.empty()) {
      s_->observe(parser.get().method_string(), target.substr(0, target.find('?')), status);
    } else {
      s_->observe({}, {}, status);
    }
    auto response = Response::text(status, ec.message());
    if (co_await write_response(stream_, *s_, std::move(response), 11, false)) {
      co_await close_gracefully(stream_, opt().linger_timeout);
    }
  }

  // False when the connection ends: it asked to close, or the answer could not be written.
  asio::awaitable<bool> answer(Parser& parser) {
    const bool keep_alive = parser.get().keep_alive();
    const unsigned version = parser.get().version();
    const Request request = to_request(parser.release(), remote_, kTls);
    Response response = s_->router.dispatch(request, s_->log);
    s_->observe(request.method, request.path, response.status);
    if (!co_await write_response(stream_, *s_, std::move(response), version, keep_alive)) {
      co_return false;
    }
    if (!keep_alive) co_await close_gracefully(stream_, opt().linger_timeout);
    co_return keep_alive;
  }

  static constexpr std::size_t kIdleReadBytes = std::size_t{4} * 1024;

  StatePtr s_;
  std::uint64_t id_;
  Stream& stream_;
  std::string remote_;   // ip:port, for log lines
  std::string address_;  // ip, for the per-address cap and the observer
  beast::flat_buffer buffer_;
};

template <class Stream>
asio::awaitable<void> serve(StatePtr s, std::uint64_t id, std::shared_ptr<Stream> stream,
                            std::string remote, std::string address) {
  Registration registration{s, id};
  // Copies, not moves: a coroutine's parameters live in its frame anyway, and clang-tidy cannot
  // tell a move before a co_await from a use after it.
  Session<Stream> session(s, id, *stream, remote, address);
  co_await session.run();
}

template <class Stream>
void start_connection(const StatePtr& s, std::shared_ptr<Stream> stream, std::string remote,
                      std::string address) {
  const auto id = s->next_id++;
  s->add(id, detail::OpenConnection{address, [weak = std::weak_ptr<Stream>(stream)] {
                                      if (auto c = weak.lock()) beast::get_lowest_layer(*c).close();
                                    }});
  asio::co_spawn(s->io, serve(s, id, std::move(stream), remote, std::move(address)),
                 [s, remote](const std::exception_ptr& e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     s->emit(LogLevel::kError, remote + ": connection failed: " + ex.what());
                   } catch (...) {
                     s->emit(LogLevel::kError, remote + ": connection failed");
                   }
                 });
}

// Closes the oldest connection (of `address`, when given) that has not delivered a complete
// request: a client holding connections open without finishing a request cannot keep out one
// that does. False when there is none.
bool evict_oldest_incomplete(detail::ServerState& s, const std::string* address) {
  for (const auto id : s.incomplete) {
    const auto it = s.connections.find(id);
    if (it == s.connections.end() || (address && it->second.address != *address)) continue;
    const detail::OpenConnection victim = it->second;  // a copy: forget() erases it
    s.forget(id);
    victim.close();
    s.report(ConnectionEvent::kEvictedIncomplete, victim.address,
             victim.address +
                 ": closed a connection that had not completed a request, to make "
                 "room for a new one");
    return true;
  }
  return false;
}

// Makes room for a new connection from `address`; the refusal's reason when there is none.
std::optional<ConnectionEvent> admit(detail::ServerState& s, const std::string& address) {
  const auto& o = s.options;
  if (s.count_of(address) >= o.max_connections_per_address &&
      !evict_oldest_incomplete(s, &address)) {
    return ConnectionEvent::kRefusedPerAddressLimit;
  }
  if (s.connections.size() >= o.max_connections && !evict_oldest_incomplete(s, nullptr)) {
    return ConnectionEvent::kRefusedListenerFull;
  }
  return std::nullopt;
}

std::string refusal_text(const detail::ServerState& s, ConnectionEvent why,
                         const std::string& address) {
  if (why == ConnectionEvent::kRefusedPerAddressLimit) {
    return "refused: already " + std::to_string(s.count_of(address)) +
           " connections from this address, each past its first request";
  }
  return "refused: already " + std::to_string(s.connections.size()) +
         " connections, each past its first request";
}

asio::awaitable<void> accept_loop(StatePtr s) {
  while (!s->stopping) {
    error_code ec;
    tcp::socket socket = co_await s->acceptor.async_accept(redirect(ec));
    if (s->stopping) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning on the same error.
      s->emit(LogLevel::kWarning, "accept failed: " + ec.message());
      s->backoff.expires_after(kAcceptBackoff);
      co_await s->backoff.async_wait(redirect(ec));
      continue;
    }
    const auto peer = socket.remote_endpoint(ec);
    const std::string remote = ec ? std::string("?") : endpoint_text(peer);
    const std::string address = ec ? std::string("?") : peer.address().to_string();
    if (const auto refused = admit(*s, address)) {
      s->report(*refused, address, remote + ": " + refusal_text(*s, *refused, address));
      socket.close(ec);
      continue;
    }
    if (s->tls) {
      start_connection(s, std::make_shared<TlsStream>(std::move(socket), *s->tls), remote, address);
    } else {
      start_connection(s, std::make_shared<beast::tcp_stream>(std::move(socket)), remote, address);
    }
  }
}

Result<asio::ssl::context> load_tls(const TlsFiles& files) {
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  error_code ec;
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                  ec);
  SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_RENEGOTIATION);
  auto fail = [](const std::string& what, const std::string& file, const error_code& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      "http: " + what + " " + file + ": " + e.message());
  };
  if (ctx.use_certificate_chain_file(files.cert_file, ec); ec) {
    return fail("cannot load certificate", files.cert_file, ec);
  }
  if (ctx.use_private_key_file(files.key_file, asio::ssl::context::pem, ec); ec) {
    return fail("cannot load private key", files.key_file, ec);
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "http: private key " + files.key_file + " does not match " + files.cert_file);
  }
  if (!files.client_ca_file.empty()) {
    if (ctx.load_verify_file(files.client_ca_file, ec); ec) {
      return fail("cannot load client CA", files.client_ca_file, ec);
    }
    // Tell clients which CAs we accept, so one holding several certificates picks right.
    if (auto* names = SSL_load_client_CA_file(files.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx.native_handle(), names);
    }
    ctx.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

}  // namespace

Server::Server(asio::io_context& io, ServerOptions options, LogSink log)
    : state_(std::make_shared<detail::ServerState>(io, std::move(options), std::move(log))) {}

Server::~Server() {
  try {
    stop();
  } catch (...) {  // closing sockets at exit: nothing left to tell anyone
  }
}

Router& Server::router() { return state_->router; }

void Server::on_response(ResponseObserver observer) { state_->observer = std::move(observer); }

void Server::on_connection_event(ConnectionObserver observer) {
  state_->connection_observer = std::move(observer);
}

Status Server::start() {
  auto& s = *state_;
  if (s.acceptor.is_open() || s.stopping) {
    return make_error(ErrorCode::kFailedPrecondition, "http: server already started");
  }
  if (s.options.tls) {
    auto ctx = load_tls(*s.options.tls);
    if (!ctx) return ctx.error();
    s.tls.emplace(std::move(*ctx));
  }
  const bool v6 = s.options.host.find(':') != std::string::npos;
  const std::string where =
      (v6 ? "[" + s.options.host + "]" : s.options.host) + ":" + std::to_string(s.options.port);
  error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(s.options.host, ec);
  if (!ec) {
    endpoint = {address, s.options.port};
  } else {
    tcp::resolver resolver(s.io);
    const auto results = resolver.resolve(s.options.host, std::to_string(s.options.port), ec);
    if (ec || results.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "http: cannot resolve " + s.options.host + ": " + ec.message());
    }
    endpoint = results.begin()->endpoint();
  }
  auto failed = [&](const char* step) {
    error_code ignored;
    s.acceptor.close(ignored);
    return make_error(ErrorCode::kUnavailable,
                      std::string("http: ") + step + " " + where + ": " + ec.message());
  };
  if (s.acceptor.open(endpoint.protocol(), ec); ec) return failed("open");
  if (s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) return failed("set");
  if (s.acceptor.bind(endpoint, ec); ec) return failed("bind");
  if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return failed("listen on");
  }
  s.port = s.acceptor.local_endpoint(ec).port();
  s.emit(LogLevel::kInfo, std::string("listening on ") +
                              endpoint_text({endpoint.address(), s.port}) +
                              (s.tls ? " (TLS)" : ""));
  asio::co_spawn(s.io, accept_loop(state_), [state = state_](const std::exception_ptr& e) {
    if (e) state->emit(LogLevel::kError, "accept loop ended by an exception");
  });
  return {};
}

std::uint16_t Server::port() const { return state_->port; }

std::size_t Server::connection_count() const { return state_->connections.size(); }

void Server::stop() {
  auto& s = *state_;
  if (s.stopping) return;
  s.stopping = true;
  error_code ec;
  s.acceptor.close(ec);
  s.backoff.cancel();
  auto open = std::move(s.connections);
  s.connections.clear();
  s.incomplete.clear();
  s.per_address.clear();
  for (auto& [id, connection] : open) connection.close();
}

}  // namespace edd::http
