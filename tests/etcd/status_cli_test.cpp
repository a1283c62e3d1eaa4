// `etcd-defragd status` against real 3-member clusters, checked against etcdctl's own numbers.
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "harness/etcd_cluster.h"
#include "harness/pki.h"
#include "support/edd_cli.h"

using namespace edd::test;
namespace json = boost::json;

namespace {

constexpr std::int64_t kQuota = 64LL * 1024 * 1024;

ClusterOptions options(std::int64_t quota = 0, Security security = Security::kPlain) {
  ClusterOptions o;
  o.quota_backend_bytes = quota;
  o.security = security;
  return o;
}

// etcd's backend commits in batches (every 100 ms): after writes, sizes move for a moment.
void wait_sizes_settle(const EtcdCluster& cluster) {
  auto sizes = [&] {
    std::vector<std::int64_t> out;
    for (const auto& s : cluster.endpoint_status()) {
      out.push_back(s.db_size_bytes);
      out.push_back(s.db_size_in_use_bytes);
    }
    return out;
  };
  auto before = sizes();
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto now = sizes();
    if (now == before) return;
    before = now;
  }
  FAIL("member sizes did not settle within 6 s");
}

// Every member in our JSON matches what etcdctl reports for it.
// etcd 3.6 still writes a little in the background for a while after it starts (cluster and
// storage version, lease checkpoints), later on a loaded host: our read counts only when etcdctl
// saw the same sizes just before and just after it.
std::vector<std::int64_t> sizes_of(const std::vector<EndpointStatus>& statuses) {
  std::vector<std::int64_t> out;
  for (const auto& s : statuses) {
    out.push_back(s.db_size_bytes);
    out.push_back(s.db_size_in_use_bytes);
  }
  return out;
}

void check_matches_etcdctl(const EtcdCluster& cluster, const std::vector<std::string>& flags) {
  std::vector<std::string> args{"status", "--endpoints", cluster.endpoints_csv(), "-w", "json"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<EndpointStatus> expected;
  CommandResult r;
  for (int attempt = 0; attempt < 10; ++attempt) {
    expected = cluster.endpoint_status();
    r = run_edd(args);
    if (sizes_of(cluster.endpoint_status()) == sizes_of(expected)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json::array members = parse_json(r.out).as_array();
  REQUIRE(members.size() == expected.size());
  int leaders = 0;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const json::object& m = members[i].as_object();
    const EndpointStatus& e = expected[i];
    INFO("member " << i << ": " << json::serialize(m));
    CHECK(json::value_to<std::string>(m.at("endpoint")) == e.endpoint);
    CHECK(json::value_to<std::string>(m.at("memberId")) == hex(e.member_id));
    CHECK(json::value_to<std::string>(m.at("name")) == cluster.member_name(static_cast<int>(i)));
    CHECK(m.at("dbSize").to_number<std::int64_t>() == e.db_size_bytes);
    CHECK(m.at("dbSizeInUse").to_number<std::int64_t>() == e.db_size_in_use_bytes);
    CHECK(m.at("dbSizeFree").to_number<std::int64_t>() == e.db_size_bytes - e.db_size_in_use_bytes);
    CHECK(m.at("isLeader").as_bool() == e.is_leader());
    CHECK(json::value_to<std::string>(m.at("version")) == cluster.release().version());
    // etcd 3.6+ reports the quota in Status; 3.4 and 3.5 do not: it must come from the member's
    // own metric.
    CHECK(m.at("dbQuota").to_number<std::int64_t>() == kQuota);
    CHECK(json::value_to<std::string>(m.at("dbQuotaSource")) ==
          (cluster.release().at_least(3, 6) ? "status" : "metrics"));
    CHECK(m.at("dbQuotaUsage").to_number<double>() ==
          Approx(static_cast<double>(e.db_size_bytes) / static_cast<double>(kQuota)));
    CHECK(m.at("error").is_null());
    leaders += m.at("isLeader").as_bool() ? 1 : 0;
  }
  CHECK(leaders == 1);
}

}  // namespace

TEST_CASE("status matches etcdctl on a plain cluster", "[status]") {
  auto cluster = EtcdCluster::start(options(kQuota));
  cluster->write_and_fragment(4 * 1024 * 1024);
  wait_sizes_settle(*cluster);
  check_matches_etcdctl(*cluster, {});

  const CommandResult table =
      run_edd({"status", "--endpoints", cluster->client_endpoint(0), "--cluster"});
  REQUIRE(table.exit_code == 0);
  for (int i = 0; i < 3; ++i) CHECK_THAT(table.out, Catch::Contains(cluster->member_name(i)));
  CHECK_THAT(table.out, Catch::Contains("IS LEADER"));
  CHECK_THAT(table.out, Catch::Contains(cluster->release().at_least(3, 6) ? "67 MB (status)"
                                                                          : "67 MB (metrics)"));
}

TEST_CASE("status matches etcdctl on a TLS cluster with client certificates", "[status][tls]") {
  auto cluster = EtcdCluster::start(options(kQuota, Security::kTls));
  check_matches_etcdctl(
      *cluster, {"--cacert", cluster->ca_file(), "--cert", cluster->client_cert_file(), "--key",
                 cluster->client_key_file()});
}

TEST_CASE("status matches etcdctl on a cluster with authentication", "[status][auth]") {
  auto cluster = EtcdCluster::start(options(kQuota, Security::kAuth));
  check_matches_etcdctl(*cluster, {"--user", "root:" + cluster->root_password()});

  // etcd 3.4 answers Status without credentials (only Defragment and the like need root); 3.5
  // wants a user for it: then every member's row says so and what to do.
  const CommandResult no_user = run_edd({"status", "--endpoints", cluster->endpoints_csv()});
  INFO(no_user.out << no_user.err);
  if (cluster->release().at_least(3, 5) && no_user.exit_code != 0) {
    CHECK(no_user.exit_code == 1);
    CHECK_THAT(no_user.out, Catch::Contains("user name is empty (auth is enabled: give --user)"));
  } else {
    CHECK(no_user.exit_code == 0);
  }

  const CommandResult wrong = run_edd({"status", "--endpoints", cluster->endpoints_csv(), "--user",
                                       "root", "--password", "not-the-password"});
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.out, Catch::Contains("authenticate as user \"root\""));
  CHECK_THAT(wrong.out + wrong.err, !Catch::Contains("not-the-password"));
  CHECK_THAT(wrong.out + wrong.err, !Catch::Contains(cluster->root_password()));
}

TEST_CASE("a stopped member is an error row and exit 1, the others still print", "[status]") {
  auto cluster = EtcdCluster::start(options());
  cluster->stop_member(2);
  const CommandResult r = run_edd(
      {"status", "--endpoints", cluster->endpoints_csv(), "-w", "json", "--dial-timeout", "1s"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("1 of 3 members did not answer"));
  const json::array members = parse_json(r.out).as_array();
  REQUIRE(members.size() == 3);
  CHECK(members[0].as_object().at("error").is_null());
  CHECK(members[1].as_object().at("error").is_null());
  CHECK_THAT(json::value_to<std::string>(members[2].as_object().at("error")),
             Catch::Contains(cluster->client_endpoint(2)));
}

TEST_CASE("a wrong CA fails with a message that says so", "[status][tls]") {
  auto cluster = EtcdCluster::start(options(0, Security::kTls));
  const auto other = generate_test_pki(std::filesystem::path(cluster->dir()) / "other-ca");
  const CommandResult r = run_edd({"status", "--endpoints", cluster->endpoints_csv(), "--cacert",
                                   other.ca_file, "--cert", cluster->client_cert_file(), "--key",
                                   cluster->client_key_file(), "--dial-timeout", "2s"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("check --cacert"));
}

TEST_CASE("plain gRPC against a TLS member says TLS is the problem", "[status][tls]") {
  auto cluster = EtcdCluster::start(options(0, Security::kTls));
  std::string plain = cluster->client_endpoint(0);
  plain.replace(0, std::string("https://").size(), "http://");
  const CommandResult r = run_edd({"status", "--endpoints", plain, "--dial-timeout", "2s"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out + r.err, Catch::Contains(plain));
}

TEST_CASE("bad input is a one-line usage error with exit 2", "[status]") {
  const CommandResult missing_ca =
      run_edd({"status", "--endpoints", "127.0.0.1:9", "--cacert", "/nonexistent/ca.pem"});
  CHECK(missing_ca.exit_code == 2);
  CHECK(missing_ca.err == "etcd-defragd status: --cacert: cannot read \"/nonexistent/ca.pem\"\n");

  const CommandResult unknown = run_edd({"status", "--no-such-flag"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("--no-such-flag"));
  CHECK(std::count(unknown.err.begin(), unknown.err.end(), '\n') == 1);

  const CommandResult bad_endpoint = run_edd({"status", "--endpoints", "localhost"});
  CHECK(bad_endpoint.exit_code == 2);
  CHECK_THAT(bad_endpoint.err, Catch::Contains("--endpoints"));
}

TEST_CASE("an unreachable endpoint fails within the dial timeout", "[status]") {
  const auto t0 = std::chrono::steady_clock::now();
  // 127.0.0.1:9 (discard) is closed here: refused at once.
  const CommandResult r = run_edd({"status", "--endpoints", "127.0.0.1:9", "--dial-timeout", "1s"},
                                  std::chrono::seconds(20));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("127.0.0.1:9"));
  CHECK(elapsed < std::chrono::seconds(10));
}
