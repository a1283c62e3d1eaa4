#include <algorithm>
#include <boost/json/parse.hpp>

#include "http_test_support.h"

using namespace edd_test;
using edd::http::ServerOptions;

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Connects, sends `bytes`, half-closes if asked and returns all the server said before closing.
asio::awaitable<Client::Drained> raw_exchange(asio::io_context& io, std::uint16_t port,
                                              std::string bytes, bool then_shutdown) {
  Client c(io);
  if (!co_await c.connect(port)) co_return Client::Drained{};
  co_await c.write_raw(std::move(bytes), then_shutdown);
  co_return co_await c.read_until_closed();
}

// A TLS 1.2/1.3 ClientHello's first bytes: what a TLS client sends to a plain port.
const std::string kClientHello(
    "\x16\x03\x01\x00\xf1\x01\x00\x00\xed\x03\x03\x5b\x1c\x8a\x00\x00\x00\x00\x00\x00\x00"
    "\x13\x01\x13\x02\x13\x03\x00\xff\x01\x00",
    32);

}  // namespace

TEST_CASE("http GET /metrics returns the provider's text as Prometheus text format") {
  Harness h;
  h.metrics_text =
      "# HELP etcd_defragd_lock_held x\n# TYPE etcd_defragd_lock_held gauge\n"
      "etcd_defragd_lock_held 1\n";
  const auto reply = h.get("/metrics");
  CHECK(reply.status == 200);
  CHECK(reply.body == h.metrics_text);
  CHECK(starts_with(reply.content_type, "text/plain; version=0.0.4"));
}

TEST_CASE("http /healthz answers 200 ok, or 503 with the reason") {
  Harness h;
  auto ok = h.get("/healthz");
  CHECK(ok.status == 200);
  CHECK(ok.body == "ok\n");
  h.healthy = false;
  auto bad = h.get("/healthz");
  CHECK(bad.status == 503);
  CHECK(bad.body == "etcd member m1 unreachable\n");
}

TEST_CASE("http /v1/status answers the provider's JSON") {
  Harness h;
  const auto reply = h.get("/v1/status");
  CHECK(reply.status == 200);
  CHECK(reply.content_type == "application/json");
  const auto doc = boost::json::parse(reply.body);
  CHECK(doc.at("members").as_array().size() == 1);
}

TEST_CASE("http answers 404 for an unknown path") {
  Harness h;
  CHECK(h.get("/nope").status == 404);
  CHECK(h.get("/metrics/").status == 404);
}

TEST_CASE("http answers 405 with Allow for a known path and the wrong method") {
  Harness h;
  const auto reply = h.run([](asio::io_context& io, std::uint16_t port) -> asio::awaitable<Reply> {
    Client c(io);
    co_await c.connect(port);
    co_return co_await c.send(make_request(bhttp::verb::delete_, "/metrics"));
  }(h.io(), h.port()));
  CHECK(reply.status == 405);
  CHECK(reply.allow == "GET");
}

TEST_CASE("http a registered POST route gets the body and the headers") {
  Harness h;
  const auto reply = h.run([](asio::io_context& io, std::uint16_t port) -> asio::awaitable<Reply> {
    Client c(io);
    co_await c.connect(port);
    auto req = make_request(bhttp::verb::post, "/v1/echo?dry_run=1", R"({"version":"4"})");
    req.set(bhttp::field::authorization, "Bearer s3cret");
    req.set(bhttp::field::content_type, "application/json");
    co_return co_await c.send(std::move(req));
  }(h.io(), h.port()));
  CHECK(reply.status == 200);
  CHECK(reply.body == "{\"version\":\"4\"}\n");
}

TEST_CASE("http a route sees the path, the query and headers case-insensitively") {
  Harness h;
  edd::http::Request seen;
  h.server().router().add("POST", "/v1/defrag", [&seen](const edd::http::Request& r) {
    seen = r;
    return edd::http::Response::json(202, "{}");
  });
  const auto reply = h.run([](asio::io_context& io, std::uint16_t port) -> asio::awaitable<Reply> {
    Client c(io);
    co_await c.connect(port);
    auto req = make_request(bhttp::verb::post, "/v1/defrag?dry_run=1", "x");
    req.set("X-Custom", "v");
    co_return co_await c.send(std::move(req));
  }(h.io(), h.port()));
  CHECK(reply.status == 202);
  CHECK(seen.method == "POST");
  CHECK(seen.path == "/v1/defrag");
  CHECK(seen.query == "dry_run=1");
  CHECK(seen.header("x-custom") == "v");
  CHECK(seen.body == "x");
  CHECK(starts_with(seen.remote_address, "127.0.0.1:"));
  CHECK_FALSE(seen.tls);
}

TEST_CASE("http a throwing handler answers 500, is logged, and the connection keeps serving") {
  Harness h;
  h.server().router().add("GET", "/boom", [](const edd::http::Request&) -> edd::http::Response {
    throw std::runtime_error("provider exploded");
  });
  const auto replies =
      h.run([](asio::io_context& io, std::uint16_t port) -> asio::awaitable<std::vector<Reply>> {
        Client c(io);
        co_await c.connect(port);
        std::vector<Reply> out;
        out.push_back(co_await c.get("/boom"));
        out.push_back(co_await c.get("/metrics"));
        co_return out;
      }(h.io(), h.port()));
  CHECK(replies[0].status == 500);
  CHECK(replies[1].status == 200);
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].find("GET /boom") != std::string::npos);
  CHECK(h.errors[0].find("provider exploded") != std::string::npos);
}

TEST_CASE("http keeps a connection alive across requests") {
  Harness h;
  const auto replies =
      h.run([](asio::io_context& io, std::uint16_t port) -> asio::awaitable<std::vector<Reply>> {
        Client c(io);
        co_await c.connect(port);
        std::vector<Reply> out;
        for (int i = 0; i < 3; ++i) out.push_back(co_await c.get("/metrics"));
        co_return out;
      }(h.io(), h.port()));
  for (const auto& r : replies) {
    CHECK(r.status == 200);
    CHECK(r.keep_alive);
  }
}

TEST_CASE("http closes the connection after answering Connection: close") {
  Harness h;
  const auto drained = h.run(raw_exchange(
      h.io(), h.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false));
  CHECK(starts_with(drained.data, "HTTP/1.1 200"));
  CHECK(drained.closed_by_server);
}

TEST_CASE("http answers 400 to a malformed request and closes") {
  Harness h;
  const auto drained = h.run(raw_exchange(
      h.io(), h.port(), "GET /metrics HTTP/1.1\r\nthis is not a header\r\n\r\n", false));
  CHECK(starts_with(drained.data, "HTTP/1.1 400"));
  CHECK(drained.closed_by_server);
  CHECK(h.get("/metrics").status == 200);
}

TEST_CASE("http answers 431 to headers over the limit") {
  ServerOptions o;
  o.header_limit_bytes = 1024;
  Harness h(o);
  const std::string big =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n";
  const auto drained = h.run(raw_exchange(h.io(), h.port(), big, false));
  CHECK(starts_with(drained.data, "HTTP/1.1 431"));
  CHECK(drained.closed_by_server);
}

TEST_CASE("http answers 413 to a body over the limit, announced or chunked") {
  ServerOptions o;
  o.body_limit_bytes = 1024;
  Harness h(o);
  SECTION("Content-Length beyond the limit is refused before the body is read") {
    const auto drained = h.run(raw_exchange(h.io(), h.port(),
                                            "POST /v1/echo HTTP/1.1\r\nHost: x\r\n"
                                            "Content-Length: 2097152\r\n\r\n" +
                                                std::string(512, 'b'),
                                            false));
    CHECK(starts_with(drained.data, "HTTP/1.1 413"));
    CHECK(drained.closed_by_server);
  }
  SECTION("a chunked body that grows beyond the limit") {
    std::string req = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) req += "200\r\n" + std::string(512, 'c') + "\r\n";
    req += "0\r\n\r\n";
    const auto drained = h.run(raw_exchange(h.io(), h.port(), req, false));
    CHECK(starts_with(drained.data, "HTTP/1.1 413"));
  }
  SECTION("a body at the limit is served") {
    const auto drained = h.run(raw_exchange(h.io(), h.port(),
                                            "POST /v1/echo HTTP/1.1\r\nHost: x\r\nConnection: "
                                            "close\r\nContent-Length: 1024\r\n\r\n" +
                                                std::string(1024, 'd'),
                                            false));
    CHECK(starts_with(drained.data, "HTTP/1.1 200"));
  }
}

TEST_CASE("http answers Expect: 100-continue before reading the body") {
  Harness h;
  const auto drained =
      h.run([](asio::io_context& io, std::uint16_t port) -> asio::awaitable<Client::Drained> {
        Client c(io);
        co_await c.connect(port);
        co_await c.write_raw(
            "POST /v1/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n"
            "Content-Length: 5\r\n\r\n");
        // The body goes only after the interim answer, as curl does.
        beast::error_code ec;
        char buf[64];
        const auto n = co_await c.read_some(asio::buffer(buf), ec);
        const std::string interim(buf, n);
        co_await c.write_raw("hello");
        auto rest = co_await c.read_until_closed();
        rest.data = interim + rest.data;
        co_return rest;
      }(h.io(), h.port()));
  CHECK(starts_with(drained.data, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200"));
  CHECK(drained.data.find("hello") != std::string::npos);
}

TEST_CASE("http closes a client that sends half a header and stalls, serving others meanwhile") {
  ServerOptions o;
  o.request_head_timeout = 300ms;
  Harness h(o);
  std::vector<std::string> events;
  std::optional<Client::Drained> slow;
  asio::co_spawn(
      h.io(),
      [](asio::io_context& io, std::uint16_t port) -> asio::awaitable<Client::Drained> {
        Client c(io);
        co_await c.connect(port);
        co_await c.write_raw("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        co_return co_await c.read_until_closed(10s);
      }(h.io(), h.port()),
      [&](std::exception_ptr, Client::Drained d) {
        events.push_back("slow closed");
        slow = std::move(d);
      });
  const auto started = std::chrono::steady_clock::now();
  const auto fast = h.get("/metrics");
  events.push_back("fast served");
  h.run_until([&] { return slow.has_value(); });
  const auto elapsed = std::chrono::steady_clock::now() - started;

  CHECK(fast.status == 200);
  CHECK(events == std::vector<std::string>{"fast served", "slow closed"});
  CHECK(slow->closed_by_server);
  CHECK(slow->data.empty());
  CHECK(elapsed >= 250ms);
  CHECK(elapsed < 5s);
}

TEST_CASE("http closes an idle kept-alive connection after the idle timeout") {
  ServerOptions o;
  o.idle_timeout = 200ms;
  Harness h(o);
  const auto drained =
      h.run([](asio::io_context& io, std::uint16_t port) -> asio::awaitable<Client::Drained> {
        Client c(io);
        co_await c.connect(port);
        const auto first = co_await c.get("/metrics");
        if (first.status != 200) co_return Client::Drained{};
        co_return co_await c.read_until_closed(5s);
      }(h.io(), h.port()));
  CHECK(drained.closed_by_server);
  h.run_until([&] { return h.server().connection_count() == 0; });
}

TEST_CASE("http garbage bytes such as a TLS ClientHello close that connection, not the server") {
  Harness h;
  const auto drained = h.run(raw_exchange(h.io(), h.port(), kClientHello, false));
  CHECK(drained.closed_by_server);
  CHECK_FALSE(starts_with(drained.data, "HTTP/1.1 200"));
  CHECK(h.get("/metrics").status == 200);
}

TEST_CASE("http closes connections beyond the cap at once and serves again when one leaves") {
  ServerOptions o;
  o.max_connections = 2;
  Harness h(o);
  Client a(h.io()), b(h.io()), c(h.io());
  auto connect_and_get = [](Client& client, std::uint16_t port) -> asio::awaitable<Reply> {
    co_await client.connect(port);
    co_return co_await client.get("/metrics");
  };
  CHECK(h.run(connect_and_get(a, h.port())).status == 200);
  CHECK(h.run(connect_and_get(b, h.port())).status == 200);
  CHECK(h.server().connection_count() == 2);

  const auto refused =
      h.run([](Client& client, std::uint16_t port) -> asio::awaitable<Client::Drained> {
        co_await client.connect(port);
        co_return co_await client.read_until_closed(5s);
      }(c, h.port()));
  CHECK(refused.closed_by_server);
  CHECK(refused.data.empty());
  CHECK(h.server().connection_count() == 2);
  CHECK(std::find_if(h.logs.begin(), h.logs.end(), [](const std::string& l) {
          return l.find("already 2 connections") != std::string::npos;
        }) != h.logs.end());

  a.close();
  h.run_until([&] { return h.server().connection_count() == 1; });
  CHECK(h.get("/metrics").status == 200);
}

TEST_CASE("http stop closes the listener and the open connections") {
  Harness h;
  Client idle(h.io());
  const auto first = h.run([](Client& c, std::uint16_t port) -> asio::awaitable<Reply> {
    co_await c.connect(port);
    co_return co_await c.get("/metrics");
  }(idle, h.port()));
  REQUIRE(first.status == 200);
  const auto port = h.port();
  h.server().stop();
  CHECK(h.server().connection_count() == 0);
  const auto drained = h.run(idle.read_until_closed(5s));
  CHECK(drained.closed_by_server);
  CHECK_FALSE(h.run([](asio::io_context& io, std::uint16_t p) -> asio::awaitable<bool> {
    Client c(io);
    co_return co_await c.connect(p);
  }(h.io(), port)));
}

TEST_CASE("http start fails naming the address when the port is taken") {
  Harness h;
  ServerOptions o;
  o.port = h.port();
  edd::http::Server second(h.io(), o);
  const auto started = second.start();
  REQUIRE_FALSE(started);
  CHECK(started.error().message.find("127.0.0.1:" + std::to_string(h.port())) != std::string::npos);
}

TEST_CASE("http listens on the IPv6 loopback when the host has one") {
  {
    asio::io_context io;
    tcp::acceptor probe(io);
    beast::error_code ec;
    probe.open(tcp::v6(), ec);
    if (!ec) probe.bind({asio::ip::make_address("::1"), 0}, ec);
    if (ec) {
      WARN("no IPv6 loopback here (" + ec.message() + "); skipped");
      return;
    }
  }
  Harness h({}, "::1");
  const auto reply = h.get("/metrics", "::1");
  CHECK(reply.status == 200);
}

TEST_CASE("http tells the response observer of every answer, the server's own 413 included") {
  edd::http::ServerOptions o;
  o.body_limit_bytes = 16;
  Harness h(o);
  std::vector<std::string> seen;
  h.server().on_response([&seen](std::string_view method, std::string_view path, unsigned status) {
    seen.push_back(std::string(method) + " " + std::string(path) + " " + std::to_string(status));
  });
  CHECK(h.get("/metrics").status == 200);
  CHECK(h.get("/nope?x").status == 404);
  h.run(raw_exchange(h.io(), h.port(),
                     "POST /v1/echo?dry_run=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n",
                     false));
  h.run(raw_exchange(h.io(), h.port(), "\x16\x03\x01 garbage\r\n\r\n", false));
  CHECK(seen == std::vector<std::string>{"GET /metrics 200", "GET /nope 404", "POST /v1/echo 413",
                                         "  400"});
}
