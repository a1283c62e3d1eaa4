#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "http/daemon_routes.h"
#include "http/router.h"

using edd::http::LogLevel;
using edd::http::Request;
using edd::http::Response;
using edd::http::Router;

namespace {

Request request(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  return r;
}

std::string header_of(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

}  // namespace

TEST_CASE("http router answers 404 for an unknown path and 405 with every allowed method") {
  Router router;
  router.add("GET", "/v1/defrag", [](const Request&) { return Response::text(200, "plan"); });
  router.add("POST", "/v1/defrag", [](const Request&) { return Response::text(202, "queued"); });
  CHECK(router.dispatch(request("GET", "/v1/defragx"), {}).status == 404);
  const auto wrong = router.dispatch(request("PUT", "/v1/defrag"), {});
  CHECK(wrong.status == 405);
  CHECK(header_of(wrong, "Allow") == "GET, POST");
  CHECK(router.dispatch(request("POST", "/v1/defrag"), {}).status == 202);
}

TEST_CASE("http router turns any exception from a handler into a logged 500") {
  Router router;
  router.add("GET", "/std", [](const Request&) -> Response { throw std::logic_error("bad"); });
  router.add("GET", "/int", [](const Request&) -> Response { throw 42; });
  std::vector<std::string> lines;
  auto log = [&lines](LogLevel level, const std::string& line) {
    CHECK(level == LogLevel::kError);
    lines.push_back(line);
  };
  CHECK(router.dispatch(request("GET", "/std"), log).status == 500);
  CHECK(router.dispatch(request("GET", "/int"), log).status == 500);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "http: GET /std: handler failed: bad");
  CHECK(lines[1] == "http: GET /int: handler failed");
}

TEST_CASE("http router survives a log sink that throws") {
  Router router;
  router.add("GET", "/x", [](const Request&) -> Response { throw std::runtime_error("x"); });
  auto log = [](LogLevel, const std::string&) { throw std::runtime_error("sink broken"); };
  CHECK(router.dispatch(request("GET", "/x"), log).status == 500);
}

TEST_CASE("http router replaces a route registered twice") {
  Router router;
  router.add("GET", "/x", [](const Request&) { return Response::text(200, "old"); });
  router.add("GET", "/x", [](const Request&) { return Response::text(200, "new"); });
  CHECK(router.dispatch(request("GET", "/x"), {}).body == "new\n");
}

TEST_CASE("http request headers are looked up case-insensitively, first one wins") {
  Request r;
  r.headers = {{"Authorization", "Bearer a"}, {"authorization", "Bearer b"}};
  CHECK(r.header("AUTHORIZATION") == "Bearer a");
  CHECK(r.header("X-Missing").empty());
}

TEST_CASE("http daemon routes register only the providers that are set") {
  Router router;
  edd::http::add_daemon_routes(router, {[] { return std::string("up 1\n"); }, {}, {}});
  const auto metrics = router.dispatch(request("GET", "/metrics"), {});
  CHECK(metrics.status == 200);
  CHECK(metrics.content_type == edd::http::kPrometheusTextType);
  CHECK(router.dispatch(request("GET", "/healthz"), {}).status == 404);
  CHECK(router.dispatch(request("GET", "/v1/status"), {}).status == 404);
}

TEST_CASE("http /healthz without a reason still says why it is 503") {
  Router router;
  edd::http::add_daemon_routes(router, {{}, [] { return edd::http::Health{false, ""}; }, {}});
  const auto r = router.dispatch(request("GET", "/healthz"), {});
  CHECK(r.status == 503);
  CHECK(r.body == "unhealthy\n");
}
