// `etcd-defragd defrag` end to end on TLS (client certificates) and authenticated clusters.
#include <catch2/catch.hpp>

#include "support/cluster_checks.h"

using namespace edd::test;

TEST_CASE("defrag works end to end over TLS with client certificates", "[defrag][tls]") {
  auto cluster = EtcdCluster::start(cluster_options(0, Security::kTls));
  const int leader = leader_index(*cluster);
  const CommandResult r =
      run_edd({"defrag", "--endpoints", cluster->client_endpoint(0), "--cluster", "--cacert",
               cluster->ca_file(), "--cert", cluster->client_cert_file(), "--key",
               cluster->client_key_file()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const auto order = defrag_order_from_logs(*cluster);
  REQUIRE(order.size() == 3);
  CHECK(order.back() == leader);
}

TEST_CASE("defrag with auth needs the root role and says so", "[defrag][auth]") {
  auto cluster = EtcdCluster::start(cluster_options(0, Security::kAuth));
  const CommandResult user =
      run_edd({"defrag", "--endpoints", cluster->endpoints_csv(), "--compaction=false", "--user",
               cluster->user_name() + ":" + cluster->user_password()});
  CHECK(user.exit_code == 1);
  CHECK_THAT(user.out, Catch::Contains("permission denied"));
  CHECK(cluster->defrag_events().empty());
  CHECK_THAT(user.out + user.err, !Catch::Contains(cluster->user_password()));

  const int leader = leader_index(*cluster);
  const CommandResult root = run_edd({"defrag", "--endpoints", cluster->endpoints_csv(), "--user",
                                      "root", "--password", cluster->root_password()});
  INFO(root.out << root.err);
  REQUIRE(root.exit_code == 0);
  const auto order = defrag_order_from_logs(*cluster);
  REQUIRE(order.size() == 3);
  CHECK(order.back() == leader);
  CHECK_THAT(root.out + root.err, !Catch::Contains(cluster->root_password()));
}
