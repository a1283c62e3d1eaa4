// TLS and authentication clusters: etcdctl through the harness has the right files and
// credentials; without them etcd refuses.
#include <catch2/catch.hpp>
#include <chrono>

#include "harness/etcd_cluster.h"

using edd::test::ClusterOptions;
using edd::test::EtcdCluster;
using edd::test::run_command;
using edd::test::Security;
using namespace std::chrono_literals;

TEST_CASE("harness TLS cluster answers etcdctl with the certificates and refuses without them",
          "[harness]") {
  ClusterOptions options;
  options.security = Security::kTls;
  auto cluster = EtcdCluster::start(options);
  for (const auto& endpoint : cluster->client_endpoints()) {
    CHECK(endpoint.starts_with("https://127.0.0.1:"));
  }
  cluster->etcdctl_ok({"put", "/tls", "yes"});
  CHECK(cluster->etcdctl_ok({"get", "/tls", "--print-value-only"}) == "yes\n");

  std::string endpoint = "--endpoints=" + cluster->client_endpoint(0);
  auto no_client_cert =
      run_command({cluster->release().etcdctl(), endpoint, "--cacert=" + cluster->ca_file(),
                   "--dial-timeout=1s", "--command-timeout=1s", "get", "/tls"},
                  30s);
  CHECK(no_client_cert.exit_code != 0);
  auto no_tls = run_command({cluster->release().etcdctl(), endpoint, "--dial-timeout=1s",
                             "--command-timeout=1s", "get", "/tls"},
                            30s);
  CHECK(no_tls.exit_code != 0);
  auto plain_http = run_command(
      {cluster->release().etcdctl(),
       "--endpoints=" + cluster->client_endpoint(0).substr(std::string("https://").size()),
       "--dial-timeout=1s", "--command-timeout=1s", "get", "/tls"},
      30s);
  CHECK(plain_http.exit_code != 0);
}

TEST_CASE("harness auth cluster refuses a request without credentials and accepts root",
          "[harness]") {
  ClusterOptions options;
  options.security = Security::kAuth;
  auto cluster = EtcdCluster::start(options);

  auto anonymous =
      run_command({cluster->release().etcdctl(), "--endpoints=" + cluster->endpoints_csv(),
                   "--dial-timeout=1s", "--command-timeout=1s", "put", "/a", "1"},
                  30s);
  CHECK(anonymous.exit_code != 0);
  CHECK_THAT(anonymous.err, Catch::Contains("user name is empty"));

  cluster->etcdctl_ok({"put", "/a", "1"});
  cluster->etcdctl_ok({"defrag"}, cluster->client_endpoint(0));

  // app-user reads and writes every key but is not root: maintenance calls are denied.
  std::map<std::string, std::string> as_user{
      {"ETCDCTL_USER", cluster->user_name() + ":" + cluster->user_password()}};
  std::string endpoint = "--endpoints=" + cluster->client_endpoint(0);
  auto user_put =
      run_command({cluster->release().etcdctl(), endpoint, "put", "/b", "2"}, 30s, as_user);
  CHECK(user_put.exit_code == 0);
  auto user_defrag = run_command({cluster->release().etcdctl(), endpoint, "defrag"}, 30s, as_user);
  CHECK(user_defrag.exit_code != 0);
  CHECK_THAT(user_defrag.err, Catch::Contains("permission denied"));

  CHECK(cluster->root_password().size() >= 16);
  CHECK(cluster->root_password() != cluster->user_password());
}
