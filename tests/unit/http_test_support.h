// Test helpers for daemon/http: a server on a test-owned io_context bound to 127.0.0.1:0, and
// clients that run as coroutines on the same loop, so one test thread drives both sides.
// Every wait is bounded by a client deadline; nothing sleeps.
#pragma once

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/daemon_routes.h"
#include "http/server.h"

namespace edd_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

inline auto redirect(beast::error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

struct Reply {
  unsigned status = 0;  // 0: no answer (closed, reset, timed out)
  std::string body;
  std::string content_type;
  std::string allow;
  bool keep_alive = false;
  beast::error_code ec;
};

// Writes `req` on `stream` and reads one response; a failure leaves status 0 and ec set.
template <class Stream>
asio::awaitable<Reply> exchange(Stream& stream, beast::flat_buffer& buffer,
                                bhttp::request<bhttp::string_body> req) {
  Reply reply;
  req.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(5s);
  co_await bhttp::async_write(stream, req, redirect(reply.ec));
  if (reply.ec) co_return reply;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  co_await bhttp::async_read(stream, buffer, parser, redirect(reply.ec));
  if (reply.ec) co_return reply;
  auto res = parser.release();
  reply.status = res.result_int();
  reply.body = res.body();
  reply.content_type = std::string(res[bhttp::field::content_type]);
  reply.allow = std::string(res[bhttp::field::allow]);
  reply.keep_alive = res.keep_alive();
  co_return reply;
}

inline bhttp::request<bhttp::string_body> make_request(bhttp::verb method,
                                                       const std::string& target,
                                                       std::string body = {}) {
  bhttp::request<bhttp::string_body> req{method, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.body() = std::move(body);
  return req;
}

// A plain TCP client: HTTP requests on one kept-alive connection, or raw bytes.
class Client {
 public:
  explicit Client(asio::io_context& io) : stream_(io) {}

  // From `source` when given (another loopback address: another client as the server sees it).
  asio::awaitable<bool> connect(std::uint16_t port, std::string host = "127.0.0.1",
                                std::string source = {}) {
    beast::error_code ec;
    stream_.expires_after(5s);
    if (!source.empty()) {
      const auto from = asio::ip::make_address(source);
      stream_.socket().open(from.is_v6() ? tcp::v6() : tcp::v4(), ec);
      if (!ec) stream_.socket().bind(tcp::endpoint(from, 0), ec);
      if (ec) co_return false;
    }
    co_await stream_.async_connect(tcp::endpoint(asio::ip::make_address(host), port), redirect(ec));
    co_return !ec;
  }

  asio::awaitable<Reply> send(bhttp::request<bhttp::string_body> req) {
    co_return co_await exchange(stream_, buffer_, std::move(req));
  }

  asio::awaitable<Reply> get(std::string target) {
    co_return co_await send(make_request(bhttp::verb::get, target));
  }

  // Sends bytes as they are (write errors ignored: the server may close first); optionally
  // half-closes.
  asio::awaitable<void> write_raw(std::string bytes, bool then_shutdown = false) {
    beast::error_code ec;
    stream_.expires_after(5s);
    co_await asio::async_write(stream_, asio::buffer(bytes), redirect(ec));
    if (then_shutdown) stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buf, beast::error_code& ec) {
    stream_.expires_after(5s);
    co_return co_await stream_.async_read_some(buf, redirect(ec));
  }

  struct Drained {
    std::string data;
    bool closed_by_server = false;  // EOF or reset, not our deadline
  };
  // Everything the server sends until it closes, or until `limit` runs out.
  asio::awaitable<Drained> read_until_closed(std::chrono::milliseconds limit = 5s) {
    Drained out;
    stream_.expires_after(limit);
    char buf[4096];
    for (;;) {
      beast::error_code ec;
      const auto n = co_await stream_.async_read_some(asio::buffer(buf), redirect(ec));
      out.data.append(buf, n);
      if (ec) {
        out.closed_by_server = ec != beast::error::timeout;
        co_return out;
      }
    }
  }

  void close() { stream_.close(); }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// A server on 127.0.0.1:0 with the daemon's routes and an echo route, and the loop that runs it.
class Harness {
 public:
  explicit Harness(edd::http::ServerOptions options = {}, std::string host = "127.0.0.1") {
    options.host = std::move(host);
    options.port = 0;
    server_ = std::make_unique<edd::http::Server>(
        io_, std::move(options), [this](edd::http::LogLevel level, const std::string& line) {
          logs.push_back(line);
          if (level == edd::http::LogLevel::kError) errors.push_back(line);
        });
    edd::http::add_daemon_routes(
        server_->router(),
        {[this] { return metrics_text; },
         [this] {
           return edd::http::Health{healthy, "etcd member m1 unreachable"};
         },
         [] { return std::string(R"({"members":[{"name":"m1"}],"actor":false})"); }});
    server_->router().add("POST", "/v1/echo", [](const edd::http::Request& r) {
      auto res = edd::http::Response::text(200, r.body);
      res.headers.emplace_back("X-Echo-Token", std::string(r.header("authorization")));
      return res;
    });
    auto started = server_->start();
    if (!started) FAIL(started.error().message);
  }

  edd::http::Server& server() { return *server_; }
  asio::io_context& io() { return io_; }
  std::uint16_t port() const { return server_->port(); }

  // Runs the loop until `task` finishes (it shares the loop with the server); fails the test if
  // it takes longer than `limit`.
  template <class T>
  T run(asio::awaitable<T> task, std::chrono::milliseconds limit = 20s) {
    std::optional<T> result;
    std::exception_ptr error;
    asio::co_spawn(io_, std::move(task), [&](std::exception_ptr e, T value) {
      error = e;
      if (!e) result.emplace(std::move(value));
    });
    run_until([&] { return result.has_value() || error != nullptr; }, limit);
    if (error) std::rethrow_exception(error);
    REQUIRE(result.has_value());
    return std::move(*result);
  }

  void run(asio::awaitable<void> task, std::chrono::milliseconds limit = 20s) {
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(io_, std::move(task), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    run_until([&] { return done; }, limit);
    if (error) std::rethrow_exception(error);
  }

  // Steps the loop until `done()`; the deadline only bounds a broken test.
  void run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) FAIL("the loop did not finish in time");
      if (io_.stopped()) io_.restart();
      io_.run_one_for(50ms);
    }
  }

  Reply get(const std::string& target, const std::string& host = "127.0.0.1") {
    return run([](std::uint16_t port, asio::io_context& io, std::string t,
                  std::string at) -> asio::awaitable<Reply> {
      Client c(io);
      if (!co_await c.connect(port, at)) co_return Reply{};
      co_return co_await c.get(t);
    }(port(), io_, target, host));
  }

  std::string metrics_text = "# HELP up Up.\n# TYPE up gauge\nup 1\n";
  bool healthy = true;
  std::vector<std::string> logs;
  std::vector<std::string> errors;

 private:
  asio::io_context io_;
  std::unique_ptr<edd::http::Server> server_;
};

}  // namespace edd_test
