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
#include <type_traits>
#include <utility>

namespace edd::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using beast::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::chrono::milliseconds kAcceptBackoff{100};
constexpr std::size_t kMaxDrainBytes = 8 * 1024 * 1024;

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

  asio::io_context& io;
  ServerOptions options;
  LogSink log;
  ResponseObserver observer;
  Router router;
  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  std::optional<asio::ssl::context> tls;
  std::uint16_t port = 0;
  bool stopping = false;
  std::uint64_t next_id = 0;
  std::uint64_t refused = 0;  // connections closed at once for the cap
  std::map<std::uint64_t, std::function<void()>> connections;  // id -> closes it
};

namespace {

using StatePtr = std::shared_ptr<detail::ServerState>;

// Removes the connection from the registry however its coroutine ends.
struct Registration {
  StatePtr state;
  std::uint64_t id;
  ~Registration() { state->connections.erase(id); }
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

template <class Stream>
asio::awaitable<void> serve(StatePtr s, std::uint64_t id, std::shared_ptr<Stream> stream,
                            std::string remote) {
  constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  Registration registration{s, id};
  auto& lowest = beast::get_lowest_layer(*stream);
  const auto& opt = s->options;
  error_code ec;

  if constexpr (kTls) {
    lowest.expires_after(opt.request_timeout);
    co_await stream->async_handshake(asio::ssl::stream_base::server, redirect(ec));
    if (ec) {  // plain HTTP, garbage, a client without a valid certificate, a timeout
      s->emit(LogLevel::kDebug, remote + ": TLS handshake failed: " + ec.message());
      co_return;
    }
  }

  beast::flat_buffer buffer;
  while (!s->stopping) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opt.header_limit_bytes));
    parser.body_limit(opt.body_limit_bytes);
    // One deadline for the whole request: trickling bytes does not extend it.
    lowest.expires_after(opt.request_timeout);
    co_await bhttp::async_read_header(*stream, buffer, parser, redirect(ec));
    if (!ec && !parser.is_done()) {
      // curl waits for this before sending a body larger than 1 KiB.
      if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, parser.get().version()};
        co_await bhttp::async_write(*stream, go_on, redirect(ec));
        lowest.expires_after(opt.request_timeout);
      }
      if (!ec) co_await bhttp::async_read(*stream, buffer, parser, redirect(ec));
    }
    if (s->stopping) co_return;
    if (ec) {
      const unsigned status = status_for_read_error(ec);
      if (status == 0) {
        if (ec != bhttp::error::end_of_stream) {
          s->emit(LogLevel::kDebug, remote + ": closed: " + ec.message());
        }
        co_return;
      }
      s->emit(LogLevel::kDebug,
              remote + ": bad request (" + std::to_string(status) + "): " + ec.message());
      // Beast fills in the request line before it checks the fields, so a 413 (Content-Length
      // over the limit) still names its route: the webhook counts it.
      if (const auto target = std::string_view(parser.get().target()); !target.empty()) {
        s->observe(parser.get().method_string(), target.substr(0, target.find('?')), status);
      } else {
        s->observe({}, {}, status);
      }
      auto answer = Response::text(status, ec.message());
      if (co_await write_response(*stream, *s, std::move(answer), 11, false)) {
        co_await close_gracefully(*stream, opt.linger_timeout);
      }
      co_return;
    }

    const bool keep_alive = parser.get().keep_alive();
    const unsigned version = parser.get().version();
    const Request request = to_request(parser.release(), remote, kTls);
    Response response = s->router.dispatch(request, s->log);
    s->observe(request.method, request.path, response.status);
    if (!co_await write_response(*stream, *s, std::move(response), version, keep_alive)) {
      co_return;
    }
    if (!keep_alive) {
      co_await close_gracefully(*stream, opt.linger_timeout);
      co_return;
    }
  }
}

template <class Stream>
void start_connection(const StatePtr& s, std::shared_ptr<Stream> stream, std::string remote) {
  const auto id = s->next_id++;
  s->connections.emplace(id, [weak = std::weak_ptr<Stream>(stream)] {
    if (auto c = weak.lock()) beast::get_lowest_layer(*c).close();
  });
  asio::co_spawn(s->io, serve(s, id, std::move(stream), remote), [s, remote](std::exception_ptr e) {
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
    if (s->connections.size() >= s->options.max_connections) {
      // Logged at the 1st, 2nd, 4th, 8th... refusal: a flood must not flood the log too.
      if (const auto n = ++s->refused; (n & (n - 1)) == 0) {
        s->emit(LogLevel::kWarning, remote + ": closed: already " +
                                        std::to_string(s->connections.size()) + " connections (" +
                                        std::to_string(n) + " refused so far)");
      }
      socket.close(ec);
      continue;
    }
    if (s->tls) {
      start_connection(s, std::make_shared<TlsStream>(std::move(socket), *s->tls), remote);
    } else {
      start_connection(s, std::make_shared<beast::tcp_stream>(std::move(socket)), remote);
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

Server::~Server() { stop(); }

Router& Server::router() { return state_->router; }

void Server::on_response(ResponseObserver observer) { state_->observer = std::move(observer); }

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
  asio::co_spawn(s.io, accept_loop(state_), [state = state_](std::exception_ptr e) {
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
  for (auto& [id, close] : open) close();
}

}  // namespace edd::http
