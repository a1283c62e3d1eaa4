#include "etcd/metrics_probe.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include "etcd/endpoint.h"
#include "tls/client_tls.h"

namespace edd::etcd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr std::string_view kQuotaMetric = "etcd_server_quota_backend_bytes";

template <class Stream>
asio::awaitable<std::string> get_metrics(Stream& stream, const std::string& host) {
  http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
  req.set(http::field::host, host);
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{16} * 1024 * 1024);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  if (parser.get().result() != http::status::ok) co_return std::string{};
  co_return parser.release().body();
}

struct ProbeSettings : tls::ClientTls {
  std::chrono::milliseconds timeout{7000};
};

std::optional<std::int64_t> probe(const ProbeSettings& s, const std::string& endpoint) {
  auto ep = parse_endpoint(endpoint);
  if (!ep) return std::nullopt;
  const bool tls = tls::uses_tls(s, endpoint);
  asio::io_context ioc;
  std::string body;
  auto run = [&]() -> asio::awaitable<void> {
    asio::ip::tcp::resolver resolver(ioc);
    auto results =
        co_await resolver.async_resolve(ep->host, std::to_string(ep->port), asio::use_awaitable);
    if (!tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(s.timeout);
      co_await stream.async_connect(results, asio::use_awaitable);
      body = co_await get_metrics(stream, ep->host);
      co_return;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    tls::configure_client_context(ctx, s);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    beast::get_lowest_layer(stream).expires_after(s.timeout);
    co_await beast::get_lowest_layer(stream).async_connect(results, asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    body = co_await get_metrics(stream, ep->host);
  };
  asio::co_spawn(ioc, run(), [](const std::exception_ptr&) {});  // failures leave body empty
  ioc.run_for(s.timeout);
  const auto value = find_metric_value(body, kQuotaMetric);
  if (!value || *value <= 0) return std::nullopt;
  return static_cast<std::int64_t>(*value);
}

}  // namespace

std::optional<double> find_metric_value(std::string_view exposition, std::string_view name) {
  while (!exposition.empty()) {
    const auto eol = exposition.find('\n');
    std::string_view line = exposition.substr(0, eol);
    if (line.starts_with(name) && line.size() > name.size() && line[name.size()] == ' ') {
      const std::string value(line.substr(name.size() + 1));
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (end != value.c_str()) return v;
    }
    if (eol == std::string_view::npos) break;
    exposition.remove_prefix(eol + 1);
  }
  return std::nullopt;
}

QuotaProbe make_metrics_quota_probe(const ClientOptions& options) {
  ProbeSettings s;
  // A file that cannot be read fails the gRPC client first, with an error naming it; the probe
  // then finds no quota.
  if (auto files = tls::read_client_tls(options))
    static_cast<tls::ClientTls&>(s) = std::move(*files);
  s.timeout = options.dial_timeout + options.command_timeout;
  // The quota only changes when a member restarts with another flag: remember each member's
  // answer for a few minutes instead of scraping its whole /metrics on every poll.
  struct Cache {
    std::mutex mu;
    std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::int64_t>> quota;
  };
  auto cache = std::make_shared<Cache>();
  return [s, cache](const std::string& endpoint) -> std::optional<std::int64_t> {
    constexpr auto kFresh = std::chrono::minutes(5);
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(cache->mu);
      auto it = cache->quota.find(endpoint);
      if (it != cache->quota.end() && now - it->second.first < kFresh) return it->second.second;
    }
    auto quota = probe(s, endpoint);
    if (quota) {
      std::lock_guard lock(cache->mu);
      cache->quota[endpoint] = {now, *quota};
    }
    return quota;
  };
}

}  // namespace edd::etcd
