// Fuzz-style, without libFuzzer: a fixed seed's random and mangled requests, each on its own
// connection, half-closed after sending. The server must answer or close every one of them
// (never hang, never crash) and keep serving /metrics.
#include <random>

#include "http_test_support.h"

using namespace edd_test;

namespace {

const std::vector<std::string> kSeeds = {
    "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /healthz HTTP/1.0\r\n\r\n",
    "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
    "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "GET /v1/status?x=1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n"
    "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
};

std::string random_bytes(std::mt19937& rng, std::size_t max_len) {
  std::uniform_int_distribution<std::size_t> len(0, max_len);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(len(rng), '\0');
  for (auto& c : s) c = static_cast<char>(byte(rng));
  return s;
}

// A seed with a few bytes flipped, inserted, deleted or a chunk of it repeated.
std::string mangle(std::mt19937& rng, std::string s) {
  std::uniform_int_distribution<int> edits(1, 8);
  std::uniform_int_distribution<int> kind(0, 3);
  std::uniform_int_distribution<int> byte(0, 255);
  const int n = edits(rng);
  for (int i = 0; i < n && !s.empty(); ++i) {
    std::uniform_int_distribution<std::size_t> at(0, s.size() - 1);
    const auto pos = at(rng);
    switch (kind(rng)) {
      case 0:
        s[pos] = static_cast<char>(byte(rng));
        break;
      case 1:
        s.insert(pos, 1, static_cast<char>(byte(rng)));
        break;
      case 2:
        s.erase(pos, 1);
        break;
      default:
        s.insert(pos, s.substr(pos, 64));
        break;
    }
  }
  return s;
}

std::string make_input(std::mt19937& rng) {
  std::uniform_int_distribution<int> kind(0, 2);
  std::uniform_int_distribution<std::size_t> seed(0, kSeeds.size() - 1);
  switch (kind(rng)) {
    case 0:
      return random_bytes(rng, 512);
    case 1:
      return mangle(rng, kSeeds[seed(rng)]);
    default:  // a valid request line, then noise where the headers go
      return "GET /metrics HTTP/1.1\r\n" + random_bytes(rng, 256) + "\r\n\r\n";
  }
}

}  // namespace

TEST_CASE("http survives 1000 random and mangled requests and keeps answering /metrics") {
  edd::http::ServerOptions o;
  o.header_limit_bytes = 1024;
  o.body_limit_bytes = 1024;
  o.request_head_timeout = 2s;
  o.request_timeout = 2s;
  Harness h(o);
  std::mt19937 rng(20240611);
  int unanswered = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto input = make_input(rng);
    const auto drained = h.run([](asio::io_context& io, std::uint16_t port,
                                  std::string bytes) -> asio::awaitable<Client::Drained> {
      Client c(io);
      if (!co_await c.connect(port)) co_return Client::Drained{};
      co_await c.write_raw(std::move(bytes), true);
      co_return co_await c.read_until_closed(5s);
    }(h.io(), h.port(), input));
    if (!drained.closed_by_server) {
      ++unanswered;
      UNSCOPED_INFO("input #" << i << " left the connection open: " << input.size() << " bytes");
    }
    // Whatever came back is HTTP or nothing.
    if (!drained.data.empty()) CHECK(drained.data.rfind("HTTP/1.", 0) == 0);
  }
  CHECK(unanswered == 0);
  CHECK(h.errors.empty());
  CHECK(h.get("/metrics").status == 200);
  h.run_until([&] { return h.server().connection_count() == 0; });
}
