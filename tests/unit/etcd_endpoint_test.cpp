#include <catch2/catch.hpp>

#include "etcd/endpoint.h"
#include "etcd/metrics_probe.h"
#include "etcd/srv_discovery.h"

using namespace edd::etcd;

TEST_CASE("endpoints are accepted in the three forms etcdctl takes", "[endpoint]") {
  auto bare = parse_endpoint("127.0.0.1:2379");
  REQUIRE(bare);
  CHECK(bare->scheme == Scheme::kNone);
  CHECK(bare->grpc_target() == "127.0.0.1:2379");
  auto https = parse_endpoint("https://localhost:2379/");
  REQUIRE(https);
  CHECK(https->scheme == Scheme::kHttps);
  CHECK(https->host == "localhost");
  auto v6 = parse_endpoint("http://[::1]:2379");
  REQUIRE(v6);
  CHECK(v6->grpc_target() == "[::1]:2379");
}

TEST_CASE("a bad endpoint is rejected naming it", "[endpoint]") {
  for (const char* bad : {"127.0.0.1", "http://:2379", "127.0.0.1:0", "127.0.0.1:70000",
                          "unix://x:1", "http://a:1/v3", "a:b", "::1:2379"}) {
    INFO(bad);
    auto r = parse_endpoint(bad);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains(bad));
  }
  auto list = parse_endpoint_list("127.0.0.1:1, ,127.0.0.1:x");
  REQUIRE_FALSE(list);
  CHECK_THAT(list.error().message, Catch::Contains("127.0.0.1:x"));
  CHECK_FALSE(parse_endpoint_list(" , "));
}

TEST_CASE("endpoints of the same member are de-duplicated, first one kept", "[endpoint]") {
  const auto out = dedupe_endpoints(
      {"http://127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:2", "https://127.0.0.1:2", "127.0.0.1:3"});
  CHECK(out == std::vector<std::string>{"http://127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"});
}

TEST_CASE("loopback hosts are recognised for --exclude-localhost", "[endpoint]") {
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.5.0.9"));
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("::1"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
  CHECK_FALSE(is_loopback_host("etcd-0"));
}

TEST_CASE("the quota metric is read from Prometheus text", "[metrics]") {
  const std::string text =
      "# HELP etcd_server_quota_backend_bytes Current backend storage quota size in bytes.\n"
      "# TYPE etcd_server_quota_backend_bytes gauge\n"
      "etcd_server_quota_backend_bytes_total 1\n"
      "etcd_server_quota_backend_bytes 2.147483648e+09\n";
  auto v = find_metric_value(text, "etcd_server_quota_backend_bytes");
  REQUIRE(v);
  CHECK(*v == 2147483648.0);
  CHECK_FALSE(find_metric_value("x 1\n", "etcd_server_quota_backend_bytes"));
}

TEST_CASE("SRV discovery builds https and http endpoints like etcdctl", "[srv]") {
  std::vector<std::string> asked;
  SrvLookup lookup = [&](const std::string& name) -> edd::Result<std::vector<SrvRecord>> {
    asked.push_back(name);
    if (name == "_etcd-client-ssl._tcp.example.com") {
      return std::vector<SrvRecord>{{"etcd-0.example.com.", 2379}};
    }
    if (name == "_etcd-client._tcp.example.com") {
      return std::vector<SrvRecord>{{"etcd-1.example.com.", 2379}};
    }
    return std::vector<SrvRecord>{};
  };
  auto all = discover_srv_endpoints("example.com", "", true, lookup);
  REQUIRE(all);
  CHECK(*all == std::vector<std::string>{"https://etcd-0.example.com:2379",
                                         "http://etcd-1.example.com:2379"});
  auto secure = discover_srv_endpoints("example.com", "", false, lookup);
  REQUIRE(secure);
  CHECK(*secure == std::vector<std::string>{"https://etcd-0.example.com:2379"});

  asked.clear();
  auto named = discover_srv_endpoints("example.com", "prod", true, lookup);
  CHECK(asked == std::vector<std::string>{"_etcd-client-ssl-prod._tcp.example.com",
                                          "_etcd-client-prod._tcp.example.com"});
  REQUIRE_FALSE(named);
  CHECK_THAT(named.error().message, Catch::Contains("--discovery-srv"));
}
