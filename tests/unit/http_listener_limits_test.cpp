// The listener stays available when clients misbehave: per-address and global caps that evict
// connections which never delivered a request (slowloris) instead of refusing newcomers, and
// separate deadlines for the request head, the kept-alive idle time and the TLS handshake.
// Real sockets on loopback; other clients are told apart by their source address (127.0.0.x).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "http_test_support.h"

using namespace edd_test;
using edd::http::ConnectionEvent;
using edd::http::ServerOptions;

namespace {

const std::string kHalfHead = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";

// Every connection event as "<reason> <address>", in order.
struct Events {
  explicit Events(edd::http::Server& server) {
    server.on_connection_event([this](ConnectionEvent e, std::string_view address) {
      seen.push_back(std::string(edd::http::connection_event_name(e)) + " " + std::string(address));
    });
  }
  std::size_t count(const std::string& event) const {
    return static_cast<std::size_t>(std::count(seen.begin(), seen.end(), event));
  }
  std::vector<std::string> seen;
};

std::size_t lines_with(const std::vector<std::string>& logs, const std::string& text) {
  return static_cast<std::size_t>(std::count_if(
      logs.begin(), logs.end(), [&](const auto& l) { return l.find(text) != std::string::npos; }));
}

// A client from `source` that sends half a request head and then nothing.
std::unique_ptr<Client> open_slow(Harness& h, const std::string& source) {
  auto c = std::make_unique<Client>(h.io());
  REQUIRE(h.run(c->connect(h.port(), "127.0.0.1", source)));
  h.run(c->write_raw(kHalfHead));
  return c;
}

// A client from `source` that completed one GET /metrics and keeps its connection alive.
std::unique_ptr<Client> open_kept_alive(Harness& h, const std::string& source) {
  auto c = std::make_unique<Client>(h.io());
  REQUIRE(h.run(c->connect(h.port(), "127.0.0.1", source)));
  REQUIRE(h.run(c->get("/metrics")).status == 200);
  return c;
}

int get_from(Harness& h, const std::string& source) {
  Client c(h.io());
  if (!h.run(c.connect(h.port(), "127.0.0.1", source))) return 0;
  return static_cast<int>(h.run(c.get("/metrics")).status);
}

bool closed_by_server(Harness& h, Client& c) {
  return h.run(c.read_until_closed(3s)).closed_by_server;
}

// Destructive: the client gives up (closes) after 100 ms of silence. Check it last.
bool still_open(Harness& h, Client& c) {
  return !h.run(c.read_until_closed(100ms)).closed_by_server;
}

asio::awaitable<void> pause(asio::io_context& io, std::chrono::milliseconds d) {
  asio::steady_timer t(io, d);
  co_await t.async_wait(asio::use_awaitable);
}

}  // namespace

TEST_CASE("http slow clients from one address evict their own oldest and a scrape still gets in") {
  ServerOptions o;
  o.max_connections_per_address = 4;
  Harness h(o);
  Events events(h.server());
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 10; ++i) slow.push_back(open_slow(h, "127.0.0.1"));
  h.run_until([&] { return events.count("evicted_incomplete 127.0.0.1") == 6; });
  CHECK(h.server().connection_count() == 4);
  for (int i = 0; i < 6; ++i) CHECK(closed_by_server(h, *slow[i]));

  // Prometheus on the same host comes from the same address: it takes the oldest slow one's
  // place and is served.
  CHECK(get_from(h, "127.0.0.1") == 200);
  CHECK(closed_by_server(h, *slow[6]));
  CHECK(events.count("evicted_incomplete 127.0.0.1") == 7);
  CHECK(events.seen.size() == 7);
  // Logged once for the whole flood (one line per reason a minute), not once per eviction.
  CHECK(lines_with(h.logs, "closed a connection that had not completed a request") == 1);
  for (int i = 7; i < 10; ++i) CHECK(still_open(h, *slow[i]));
}

TEST_CASE("http a full listener evicts the oldest incomplete connection, never a kept-alive one") {
  ServerOptions o;
  o.max_connections = 3;
  Harness h(o);
  Events events(h.server());
  auto prometheus = open_kept_alive(h, "127.0.0.2");
  auto slow_a = open_slow(h, "127.0.0.3");
  auto slow_b = open_slow(h, "127.0.0.3");
  h.run_until([&] { return h.server().connection_count() == 3; });

  auto alertmanager = open_kept_alive(h, "127.0.0.4");  // took slow_a's place
  CHECK(closed_by_server(h, *slow_a));
  auto kubelet = open_kept_alive(h, "127.0.0.5");  // took slow_b's place
  CHECK(closed_by_server(h, *slow_b));
  CHECK(events.seen ==
        std::vector<std::string>{"evicted_incomplete 127.0.0.3", "evicted_incomplete 127.0.0.3"});

  // The kept-alive connection that did complete a request was never touched...
  CHECK(h.run(prometheus->get("/metrics")).status == 200);
  // ...and now that every connection has completed a request, a newcomer is refused instead.
  Client refused(h.io());
  REQUIRE(h.run(refused.connect(h.port(), "127.0.0.1", "127.0.0.8")));
  const auto drained = h.run(refused.read_until_closed(3s));
  CHECK(drained.closed_by_server);
  CHECK(drained.data.empty());
  CHECK(events.count("listener_full 127.0.0.8") == 1);
  CHECK(h.run(prometheus->get("/metrics")).status == 200);
}

TEST_CASE("http an address whose connections all completed requests is refused, others served") {
  ServerOptions o;
  o.max_connections_per_address = 2;
  Harness h(o);
  Events events(h.server());
  auto a = open_kept_alive(h, "127.0.0.1");
  auto b = open_kept_alive(h, "127.0.0.1");
  Client refused(h.io());
  REQUIRE(h.run(refused.connect(h.port())));
  const auto drained = h.run(refused.read_until_closed(3s));
  CHECK(drained.closed_by_server);
  CHECK(drained.data.empty());
  CHECK(events.seen == std::vector<std::string>{"per_address_limit 127.0.0.1"});
  CHECK(lines_with(h.logs, "already 2 connections from this address") == 1);
  CHECK(get_from(h, "127.0.0.2") == 200);
  CHECK(h.run(a->get("/metrics")).status == 200);
}

TEST_CASE("http the request head has its own short deadline, apart from the kept-alive idle time") {
  ServerOptions o;
  o.request_head_timeout = 300ms;
  o.idle_timeout = 5s;
  Harness h(o);
  Events events(h.server());
  auto kept = open_kept_alive(h, "127.0.0.1");
  auto silent = std::make_unique<Client>(h.io());
  REQUIRE(h.run(silent->connect(h.port())));
  auto trickling = open_kept_alive(h, "127.0.0.1");
  h.run(trickling->write_raw(kHalfHead));  // its second request never ends

  const auto started = std::chrono::steady_clock::now();
  CHECK(closed_by_server(h, *silent));  // connected and never sent a request
  CHECK(closed_by_server(h, *trickling));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(elapsed >= 200ms);
  CHECK(elapsed < 3s);
  CHECK(events.count("head_timeout 127.0.0.1") == 2);

  // Idle longer than the head deadline, then a new request: still served on the same connection.
  h.run(pause(h.io(), 600ms));
  CHECK(h.run(kept->get("/metrics")).status == 200);
  CHECK(events.seen.size() == 2);
}

TEST_CASE("http a body that does not arrive within the request timeout is cut and counted") {
  ServerOptions o;
  o.request_timeout = 300ms;
  Harness h(o);
  Events events(h.server());
  Client c(h.io());
  REQUIRE(h.run(c.connect(h.port())));
  h.run(c.write_raw("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
  CHECK(closed_by_server(h, c));
  CHECK(events.seen == std::vector<std::string>{"request_timeout 127.0.0.1"});
  CHECK(get_from(h, "127.0.0.1") == 200);
}

TEST_CASE("http connection event names are the metric's reason labels") {
  std::vector<std::string> names;
  for (const auto e : edd::http::kConnectionEvents) {
    names.emplace_back(edd::http::connection_event_name(e));
  }
  CHECK(names == std::vector<std::string>{"listener_full", "per_address_limit",
                                          "evicted_incomplete", "head_timeout", "request_timeout",
                                          "tls_handshake_timeout"});
}
