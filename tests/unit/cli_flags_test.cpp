#include <catch2/catch.hpp>
#include <cstdlib>

#include "cli/connection_flags.h"
#include "cli/defrag_command.h"

using edd::cli::ConnectionFlags;

namespace {

// Sets an environment variable for one test and removes it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

void parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector back to front
  app.parse(args);
}

}  // namespace

TEST_CASE("a flag beats the environment, which beats the default", "[flags]") {
  ScopedEnv env("ETCDCTL_ENDPOINTS", "127.0.0.1:1111");
  {
    CLI::App app;
    ConnectionFlags flags;
    flags.add_to(app, edd::cli::etcdctl_env);
    parse(app, {});
    CHECK(flags.endpoints == "127.0.0.1:1111");
  }
  {
    CLI::App app;
    ConnectionFlags flags;
    flags.add_to(app, edd::cli::etcdctl_env);
    parse(app, {"--endpoints", "127.0.0.1:2222"});
    CHECK(flags.endpoints == "127.0.0.1:2222");
  }
  {
    CLI::App app;
    ConnectionFlags flags;
    flags.add_to(app, [](std::string_view) { return std::string(); });
    parse(app, {});
    CHECK(flags.endpoints == "127.0.0.1:2379");
  }
}

TEST_CASE("only etcdctl's six variables are honoured by status", "[flags]") {
  CHECK(edd::cli::etcdctl_env("endpoints") == "ETCDCTL_ENDPOINTS");
  CHECK(edd::cli::etcdctl_env("password") == "ETCDCTL_PASSWORD");
  CHECK(edd::cli::etcdctl_env("dial-timeout").empty());
  CHECK(edd::cli::etcd_defrag_env("skip-healthcheck-cluster-endpoints") ==
        "ETCD_DEFRAG_SKIP_HEALTHCHECK_CLUSTER_ENDPOINTS");
}

TEST_CASE("boolean flags take Go's --flag=false form", "[flags]") {
  CLI::App app;
  ConnectionFlags flags;
  flags.add_to(app, edd::cli::etcd_defrag_env);
  parse(app, {"--insecure-transport=false", "--cluster"});
  CHECK_FALSE(flags.insecure_transport);
  CHECK(flags.cluster);
}

TEST_CASE("a user given as name:password splits, and conflicts with a password flag", "[flags]") {
  ConnectionFlags flags;
  flags.user = "root:s3cret";
  auto o = flags.to_client_options();
  REQUIRE(o);
  CHECK(o->user == "root");
  CHECK(o->password == "s3cret");
  flags.password = "other";
  auto conflict = flags.to_client_options();
  REQUIRE_FALSE(conflict);
  CHECK_THAT(conflict.error().message, Catch::Contains("--user"));
  CHECK_THAT(conflict.error().message, !Catch::Contains("s3cret"));
}

TEST_CASE("bad connection flags are one-line errors naming the flag", "[flags]") {
  ConnectionFlags flags;
  flags.dial_timeout = "2 seconds";
  auto r = flags.to_client_options();
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::StartsWith("--dial-timeout"));
  flags = ConnectionFlags{};
  flags.storage_quota_bytes = 0;
  CHECK_THAT(flags.to_client_options().error().message,
             Catch::StartsWith("--etcd-storage-quota-bytes"));
  flags = ConnectionFlags{};
  flags.endpoints = "localhost";
  CHECK_THAT(flags.to_client_options().error().message, Catch::StartsWith("--endpoints"));
  flags = ConnectionFlags{};
  flags.cert = "/tmp/c.pem";
  CHECK_THAT(flags.to_client_options().error().message, Catch::Contains("--key"));
}

TEST_CASE("defrag rejects bad usage with exit 2 before dialling anything", "[flags]") {
  auto run_with = [](std::vector<std::string> args) {
    CLI::App app;
    edd::cli::DefragCommand cmd;
    cmd.add_to(app);
    // An endpoint nobody listens on: reaching it would take the dial timeout and exit 1.
    args.push_back("--endpoints=127.0.0.1:9");
    parse(app, args);
    return cmd.run();
  };
  CHECK(run_with({"--skip-healthcheck-cluster-endpoints", "--cluster"}) == 2);
  CHECK(run_with({"--skip-healthcheck-cluster-endpoints", "--discovery-srv=example.com"}) == 2);
  CHECK(run_with({"--auto-disalarm", "--disalarm-threshold=1"}) == 2);
  CHECK(run_with({"--auto-disalarm", "--disalarm-threshold=0"}) == 2);
  CHECK(run_with({"--defrag-rule=dbSize >> 1"}) == 2);
  CHECK(run_with({"--defrag-rule=dbsize > 1"}) == 2);
  CHECK(run_with({"--wait-between-defrags=5"}) == 2);
  CHECK(run_with({"--etcd-storage-quota-bytes=-1"}) == 2);
}

TEST_CASE("defrag keeps etcd-defrag's defaults", "[flags]") {
  CLI::App app;
  edd::cli::DefragCommand cmd;
  cmd.add_to(app);
  parse(app, {});
  CHECK(cmd.connection.endpoints == "127.0.0.1:2379");
  CHECK_FALSE(cmd.connection.cluster);
  CHECK(cmd.connection.dial_timeout == "2s");
  CHECK(cmd.connection.command_timeout == "30s");
  CHECK(cmd.connection.keepalive_time == "2s");
  CHECK(cmd.connection.keepalive_timeout == "6s");
  CHECK(cmd.connection.insecure_transport);
  CHECK_FALSE(cmd.connection.insecure_skip_tls_verify);
  CHECK(cmd.connection.storage_quota_bytes == 2147483648);
  CHECK(cmd.insecure_discovery);
  CHECK(cmd.compaction);
  CHECK(cmd.continue_on_error);
  CHECK(cmd.defrag_rule.empty());
  CHECK_FALSE(cmd.dry_run);
  CHECK_FALSE(cmd.exclude_localhost);
  CHECK_FALSE(cmd.move_leader);
  CHECK(cmd.wait_between_defrags == "0s");
  CHECK_FALSE(cmd.skip_healthcheck_cluster_endpoints);
  CHECK_FALSE(cmd.auto_disalarm);
  CHECK(cmd.disalarm_threshold == Approx(0.9));
}

TEST_CASE("every defrag flag can come from ETCD_DEFRAG_<FLAG>", "[flags]") {
  ScopedEnv rule("ETCD_DEFRAG_DEFRAG_RULE", "dbSize > 1");
  ScopedEnv compaction("ETCD_DEFRAG_COMPACTION", "false");
  ScopedEnv threshold("ETCD_DEFRAG_DISALARM_THRESHOLD", "0.5");
  ScopedEnv wait("ETCD_DEFRAG_WAIT_BETWEEN_DEFRAGS", "1s");
  CLI::App app;
  edd::cli::DefragCommand cmd;
  cmd.add_to(app);
  parse(app, {"--compaction=true"});
  CHECK(cmd.defrag_rule == "dbSize > 1");
  CHECK(cmd.compaction);  // the flag wins over the environment
  CHECK(cmd.disalarm_threshold == Approx(0.5));
  CHECK(cmd.wait_between_defrags == "1s");
}
