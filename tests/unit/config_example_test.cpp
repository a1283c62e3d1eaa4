// The shipped example config and the defaults: what an operator gets without writing a key.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "config/loader.h"

using namespace edd::config;
using namespace std::chrono_literals;
using edd::policy::MoveLeader;

TEST_CASE("the example config loads without errors or warnings") {
  const auto r = load_config_file(std::string(EDD_SOURCE_DIR) + "/config/etcd-defragd.toml");
  CHECK(r.errors.empty());
  CHECK(r.warnings.empty());
  REQUIRE(r.config.has_value());
  const Config& c = *r.config;
  CHECK(c.source.ends_with("config/etcd-defragd.toml"));
  // The example shows the defaults: loading it must give what an empty file gives.
  const auto empty = load_config_string("", "empty.toml");
  REQUIRE(empty.config.has_value());
  const Config& d = *empty.config;
  CHECK(c.etcd.endpoints == d.etcd.endpoints);
  CHECK(c.etcd.local_endpoint == d.etcd.local_endpoint);
  CHECK(c.etcd.cluster == d.etcd.cluster);
  CHECK(c.etcd.dial_timeout == d.etcd.dial_timeout);
  CHECK(c.etcd.command_timeout == d.etcd.command_timeout);
  CHECK(c.policy.poll_interval == d.policy.poll_interval);
  CHECK(c.policy.rule.text() == d.policy.rule.text());
  CHECK(c.policy.quota_bytes == d.policy.quota_bytes);
  CHECK(c.policy.move_leader == d.policy.move_leader);
  CHECK(c.policy.move_leader_min_stall == d.policy.move_leader_min_stall);
  CHECK(c.policy.disalarm_threshold == d.policy.disalarm_threshold);
  CHECK(c.policy.min_interval == d.policy.min_interval);
  CHECK(c.policy.wait_between_defrags == d.policy.wait_between_defrags);
  CHECK(c.policy.pause_file == d.policy.pause_file);
  CHECK(c.policy.maintenance_windows.empty());
  CHECK(c.lock.prefix == d.lock.prefix);
  CHECK(c.lock.ttl == d.lock.ttl);
  CHECK(c.http.listen == d.http.listen);
  CHECK(c.log.level == d.log.level);
  CHECK(c.log.format == d.log.format);
}

TEST_CASE("an empty config gives the documented defaults for every section") {
  const auto r = load_config_string("", "empty.toml");
  REQUIRE(r.errors.empty());
  CHECK(r.warnings.empty());
  REQUIRE(r.config.has_value());
  const Config& c = *r.config;
  CHECK(c.source == "empty.toml");
  CHECK(c.etcd.endpoints == std::vector<std::string>{"127.0.0.1:2379"});
  CHECK(c.etcd.local_endpoint == "127.0.0.1:2379");
  CHECK(c.etcd.cluster);
  CHECK(c.etcd.cacert.empty());
  CHECK(c.etcd.user.empty());
  CHECK(c.etcd.password_file.empty());
  CHECK(c.etcd.dial_timeout == 2s);
  CHECK(c.etcd.command_timeout == 30s);
  CHECK(c.policy.poll_interval == 30s);
  CHECK(c.policy.rule.text() == "dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024");
  CHECK(c.policy.quota_bytes == 0);
  CHECK(c.policy.fallback_quota_bytes() == 2LL * 1024 * 1024 * 1024);
  CHECK(c.policy.compaction);
  CHECK(c.policy.move_leader == MoveLeader::kAuto);
  CHECK(c.policy.move_leader_min_stall == 1s);
  CHECK(c.policy.auto_disalarm);
  CHECK(c.policy.disalarm_threshold == 0.9);
  CHECK(c.policy.min_interval == 1h);
  CHECK(c.policy.nospace_bypasses_min_interval);
  CHECK_FALSE(c.policy.defrag_during_version_change);
  CHECK(c.policy.continue_on_error);
  CHECK(c.policy.wait_between_defrags == 0s);
  CHECK_FALSE(c.policy.dry_run);
  CHECK(c.policy.consistency_check);
  CHECK(c.policy.pause_file == "/etc/etcd-defragd/pause");
  CHECK(c.policy.maintenance_windows.empty());
  CHECK(c.lock.prefix == "/etcd-defragd/lock");
  CHECK(c.lock.ttl == 60s);
  CHECK(c.http.listen.text() == "127.0.0.1:9479");
  CHECK(c.http.cert.empty());
  CHECK(c.http.webhook_token_file.empty());
  CHECK(c.log.level == LogLevel::kInfo);
  CHECK(c.log.format == LogFormat::kText);
}

TEST_CASE("a config with only some sections keeps the defaults of the absent ones") {
  const auto r = load_config_string("[policy]\npoll_interval = \"5s\"\n", "partial.toml");
  REQUIRE(r.config.has_value());
  CHECK(r.config->policy.poll_interval == 5s);
  CHECK(r.config->policy.min_interval == 1h);
  CHECK(r.config->lock.ttl == 60s);
  CHECK(r.config->etcd.endpoints == std::vector<std::string>{"127.0.0.1:2379"});
}

TEST_CASE("a config's local_endpoint is the default endpoint list, explicit endpoints win") {
  auto r = load_config_string("[etcd]\nlocal_endpoint = \"https://10.0.0.5:2379\"\n", "a.toml");
  REQUIRE(r.config.has_value());
  CHECK(r.config->etcd.endpoints == std::vector<std::string>{"https://10.0.0.5:2379"});
  r = load_config_string(
      "[etcd]\nendpoints = [\"10.0.0.1:2379\", \"[::1]:2379\"]\n"
      "local_endpoint = \"10.0.0.1:2379\"\n",
      "b.toml");
  REQUIRE(r.config.has_value());
  CHECK(r.config->etcd.endpoints == std::vector<std::string>{"10.0.0.1:2379", "[::1]:2379"});
}

TEST_CASE("a config sets every policy key, the run's share as the one run-policy type") {
  const auto r = load_config_string(R"([etcd]
cluster = false
command_timeout = "45s"
[policy]
rule = "dbSize > 100"
quota_bytes = 8_589_934_592
compaction = false
move_leader = true
move_leader_min_stall = "250ms"
auto_disalarm = false
disalarm_threshold = 0.75
min_interval = "0s"
nospace_bypasses_min_interval = false
defrag_during_version_change = true
continue_on_error = false
wait_between_defrags = "1m30s"
dry_run = true
consistency_check = false
pause_file = "/run/etcd-defragd/pause"
[lock]
ttl = "2m"
prefix = "/my/lock"
[log]
level = "debug"
format = "json"
)",
                                    "all.toml");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.config.has_value());
  const Config& c = *r.config;
  CHECK(c.policy.rule.text() == "dbSize > 100");
  CHECK(c.policy.fallback_quota_bytes() == 8589934592LL);
  CHECK(c.policy.pause_file == "/run/etcd-defragd/pause");
  CHECK(c.policy.min_interval == 0s);
  CHECK_FALSE(c.policy.nospace_bypasses_min_interval);
  CHECK(c.policy.defrag_during_version_change);
  CHECK(c.lock.ttl == 120s);
  CHECK(c.lock.prefix == "/my/lock");
  CHECK(c.log.level == LogLevel::kDebug);
  CHECK(c.log.format == LogFormat::kJson);
  const edd::policy::RunPolicy& s = c.policy;
  CHECK_FALSE(c.etcd.cluster);
  CHECK_FALSE(s.compaction);
  CHECK_FALSE(s.continue_on_error);
  CHECK(s.dry_run);
  CHECK(s.move_leader == MoveLeader::kAlways);
  CHECK(s.move_leader_min_stall == 250ms);
  CHECK_FALSE(s.auto_disalarm);
  CHECK(s.disalarm_threshold == 0.75);
  CHECK_FALSE(s.consistency_check);
  CHECK(s.wait_between_defrags == 90s);
  CHECK(c.etcd.command_timeout == 45s);
}

TEST_CASE("a config's move_leader takes false, true and \"auto\"") {
  auto mode = [](const char* value) {
    const auto r = load_config_string(std::string("[policy]\nmove_leader = ") + value, "m.toml");
    REQUIRE(r.config.has_value());
    return r.config->policy.move_leader;
  };
  CHECK(mode("false") == MoveLeader::kNever);
  CHECK(mode("true") == MoveLeader::kAlways);
  CHECK(mode("\"auto\"") == MoveLeader::kAuto);
  CHECK(edd::policy::to_string(MoveLeader::kAuto) == "auto");
}

TEST_CASE("a config may write sections as inline tables, with CRLF line ends and a BOM") {
  const auto r = load_config_string(
      "\xEF\xBB\xBF"
      "policy = { poll_interval = \"10s\" }\r\n[log]\r\nlevel = \"warn\"\r\n",
      "crlf.toml");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.config.has_value());
  CHECK(r.config->policy.poll_interval == 10s);
  CHECK(r.config->log.level == LogLevel::kWarn);
}
