// Bad configs: every problem is one `file:line:col: key: why` line, all of them in one pass.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/loader.h"

using edd::config::load_config_string;
using edd::config::LoadResult;

namespace {

LoadResult load(const std::string& toml) { return load_config_string(toml, "t.toml"); }

// The one error `toml` gives; fails the test when there are none or several.
std::string only_error(const std::string& toml) {
  const auto r = load(toml);
  INFO(toml);
  for (const auto& e : r.errors) UNSCOPED_INFO(e);
  REQUIRE(r.errors.size() == 1);
  CHECK_FALSE(r.config.has_value());
  CHECK(r.errors[0].find('\n') == std::string::npos);
  return r.errors[0];
}

// `[section]\nkey = value`: the error is on line 2 at the value's column.
std::string value_error(const std::string& section, const std::string& key,
                        const std::string& value) {
  return only_error("[" + section + "]\n" + key + " = " + value + "\n");
}

std::string at_value(const std::string& section, const std::string& key) {
  return "t.toml:2:" + std::to_string(key.size() + 4) + ": " + section + "." + key + ": ";
}

}  // namespace

TEST_CASE("a config reports a wrong type for every key, naming the key and the expected type") {
  struct Case {
    const char* section;
    const char* key;
    const char* value;
    const char* expected;
  };
  const Case cases[] = {
      {"etcd", "endpoints", "1",
       "expected an array of strings such as [\"https://10.0.0.1:2379\"] (a comma-separated "
       "string is not accepted), got an integer"},
      {"etcd", "endpoints", "\"a:1,b:2\"", "got a string"},
      {"etcd", "local_endpoint", "1", "expected a string, got an integer"},
      {"etcd", "cluster", "\"yes\"", "expected true or false, got a string"},
      {"etcd", "cacert", "1", "expected a string, got an integer"},
      {"etcd", "cert", "[]", "expected a string, got an array"},
      {"etcd", "key", "{}", "expected a string, got a table"},
      {"etcd", "user", "1", "expected a string, got an integer"},
      {"etcd", "password_file", "true", "expected a string, got a boolean"},
      {"etcd", "dial_timeout", "5", "expected a duration string such as \"30s\", got an integer"},
      {"etcd", "command_timeout", "1.5", "expected a duration string such as \"30s\", got a float"},
      {"policy", "poll_interval", "30",
       "expected a duration string such as \"30s\", got an integer"},
      {"policy", "rule", "true", "expected a string, got a boolean"},
      {"policy", "quota_bytes", "\"2GiB\"", "expected an integer, got a string"},
      {"policy", "quota_bytes", "2.5e9", "expected an integer, got a float"},
      {"policy", "compaction", "1", "expected true or false, got an integer"},
      {"policy", "move_leader", "1", "expected true, false or \"auto\", got an integer"},
      {"policy", "move_leader_min_stall", "1",
       "expected a duration string such as \"30s\", got an integer"},
      {"policy", "auto_disalarm", "\"true\"", "expected true or false, got a string"},
      {"policy", "disalarm_threshold", "\"0.9\"", "expected a number, got a string"},
      {"policy", "min_interval", "3600",
       "expected a duration string such as \"30s\", got an integer"},
      {"policy", "nospace_bypasses_min_interval", "0", "expected true or false, got an integer"},
      {"policy", "defrag_during_version_change", "\"yes\"", "expected true or false, got a string"},
      {"policy", "continue_on_error", "\"no\"", "expected true or false, got a string"},
      {"policy", "wait_between_defrags", "0",
       "expected a duration string such as \"30s\", got an integer"},
      {"policy", "dry_run", "1979-05-27", "expected true or false, got a date"},
      {"policy", "consistency_check", "[]", "expected true or false, got an array"},
      {"policy", "pause_file", "true", "expected a string, got a boolean"},
      {"policy", "maintenance_windows", "\"Sat 02:00-04:00\"",
       "expected an array of strings such as [\"Sat 02:00-04:00\"], got a string"},
      {"etcd", "data_dir", "1", "expected a string, got an integer"},
      {"lock", "prefix", "1", "expected a string, got an integer"},
      {"lock", "ttl", "60", "expected a duration string such as \"30s\", got an integer"},
      {"http", "listen", "9479", "expected a string, got an integer"},
      {"http", "cert", "1", "expected a string, got an integer"},
      {"http", "key", "1", "expected a string, got an integer"},
      {"http", "client_ca", "1", "expected a string, got an integer"},
      {"http", "webhook_token_file", "1", "expected a string, got an integer"},
      {"log", "level", "1", "expected a string, got an integer"},
      {"log", "format", "true", "expected a string, got a boolean"},
  };
  for (const auto& c : cases) {
    const std::string e = value_error(c.section, c.key, c.value);
    CHECK_THAT(e, Catch::StartsWith(at_value(c.section, c.key)));
    CHECK_THAT(e, Catch::Contains(c.expected));
  }
}

TEST_CASE("a config points a wrong-typed array element at the element") {
  CHECK(only_error("[etcd]\nendpoints = [\"a:1\", 2]\n") ==
        "t.toml:2:21: etcd.endpoints[1]: expected a string, got an integer");
  CHECK(only_error("[policy]\nmaintenance_windows = [\"daily 01:00-02:00\", 3]\n") ==
        "t.toml:2:45: policy.maintenance_windows[1]: expected a string such as "
        "\"Sat 02:00-04:00\", got an integer");
}

TEST_CASE("a config rejects each bad duration with Go's syntax in the hint") {
  const char* bad[] = {"5 s", "5", "five", "", "1h-30m", "10x", "1..5s", "s"};
  for (const char* d : bad) {
    const std::string e = value_error("policy", "poll_interval", "\"" + std::string(d) + "\"");
    CHECK_THAT(e, Catch::StartsWith("t.toml:2:17: policy.poll_interval: invalid duration \"" +
                                    std::string(d) + "\""));
    CHECK_THAT(e, Catch::Contains("use Go syntax such as 500ms, 30s, 1m30s"));
  }
}

TEST_CASE("a config rejects durations out of each key's range") {
  CHECK(value_error("policy", "poll_interval", "\"500ms\"") ==
        "t.toml:2:17: policy.poll_interval: must be at least 1s, got \"500ms\"");
  CHECK(value_error("policy", "poll_interval", "\"25h\"") ==
        "t.toml:2:17: policy.poll_interval: must be at most 24h0m0s, got \"25h\"");
  CHECK(value_error("policy", "min_interval", "\"-1s\"") ==
        "t.toml:2:16: policy.min_interval: must be at least 0s, got \"-1s\"");
  CHECK(value_error("etcd", "dial_timeout", "\"0s\"") ==
        "t.toml:2:16: etcd.dial_timeout: must be greater than 0, got \"0s\"");
  CHECK(value_error("etcd", "command_timeout", "\"-5s\"") ==
        "t.toml:2:19: etcd.command_timeout: must be greater than 0, got \"-5s\"");
  CHECK(value_error("policy", "wait_between_defrags", "\"2h\"") ==
        "t.toml:2:24: policy.wait_between_defrags: must be at most 1h0m0s, got \"2h\"");
  CHECK(value_error("lock", "ttl", "\"5s\"") ==
        "t.toml:2:7: lock.ttl: must be at least 10s, got \"5s\"");
  CHECK(value_error("lock", "ttl", "\"2h\"") ==
        "t.toml:2:7: lock.ttl: must be at most 1h0m0s, got \"2h\"");
  CHECK(value_error("lock", "ttl", "\"45.5s\"") ==
        "t.toml:2:7: lock.ttl: must be whole seconds (etcd lease TTLs are), got 45.5s");
}

TEST_CASE("a config rejects numbers out of range") {
  for (const char* x : {"0", "1", "1.5", "-0.1", "nan", "inf", "0.0"}) {
    CHECK_THAT(value_error("policy", "disalarm_threshold", x),
               Catch::StartsWith("t.toml:2:22: policy.disalarm_threshold: must be between 0 and "
                                 "1 (exclusive), e.g. 0.9, got "));
  }
  for (const char* q : {"-1", "1000", "2_199_023_255_552"}) {
    CHECK_THAT(value_error("policy", "quota_bytes", q),
               Catch::StartsWith("t.toml:2:15: policy.quota_bytes: must be 0 (automatic) or "
                                 "between 1048576 (1 MiB) and 1099511627776 (1 TiB), got "));
  }
}

TEST_CASE("a config reports an unknown key at its line and column, with a likely fix") {
  CHECK(only_error("[policy]\npoll_interval = \"5s\"\n  poll_intervall = \"5s\"\n") ==
        "t.toml:3:3: policy.poll_intervall: unknown key (did you mean poll_interval?)");
  CHECK(only_error("[etcd]\nttl = \"5s\"\n") ==
        "t.toml:2:1: etcd.ttl: unknown key; it belongs in [lock]");
  CHECK_THAT(only_error("[log]\ncolour = true\n"),
             Catch::StartsWith("t.toml:2:1: log.colour: unknown key (known: level, format)"));
  CHECK(only_error("[etcd.tls]\nca = \"x\"\n") ==
        "t.toml:1:7: etcd.tls: unknown key (known: "
        "endpoints, local_endpoint, cluster, cacert, "
        "cert, key, user, password_file, "
        "dial_timeout, command_timeout, data_dir)");
}

TEST_CASE("a config reports an unknown section at its line and column") {
  CHECK(only_error("# comment\n\n[polcy]\nrule = \"\"\n") ==
        "t.toml:3:2: polcy: unknown section (did you mean [policy]?)");
  CHECK(only_error("[metrics]\n") ==
        "t.toml:1:2: metrics: unknown section (known: [etcd], [policy], [lock], [http], [log], "
        "[usage_scan])");
  CHECK(only_error("poll_interval = \"5s\"\n") ==
        "t.toml:1:1: poll_interval: unknown key; it belongs in [policy]");
  CHECK(only_error("verbose = true\n") ==
        "t.toml:1:1: verbose: unknown key outside any section (known: [etcd], [policy], [lock], "
        "[http], [log], [usage_scan])");
  CHECK(only_error("etcd = 1\n") == "t.toml:1:1: etcd: expected a table ([etcd]), got an integer");
  CHECK(only_error("[[policy]]\n") ==
        "t.toml:1:3: policy: expected a table ([policy]), got an array");
}

TEST_CASE("a config never repeats a password or inline credentials in a message") {
  const std::string e = only_error("[etcd]\npassword = \"hunter2\"\n");
  CHECK(e ==
        "t.toml:2:1: etcd.password: unknown key; put the password in a file (mode 0600) and set "
        "etcd.password_file");
  const std::string u = only_error("[etcd]\nuser = \"root:hunter2\"\n");
  CHECK(u ==
        "t.toml:2:8: etcd.user: must not contain ':' (no inline password; put it in "
        "etcd.password_file)");
}

TEST_CASE("a config keeps each message on one line whatever the keys and values hold") {
  const auto r = load("[log]\n\"a\\nb\" = 1\nlevel = \"x\\ny\"\n");
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0] == "t.toml:2:1: log.\"a\\nb\": unknown key (known: level, format)");
  CHECK(r.errors[1] ==
        "t.toml:3:9: log.level: expected trace, debug, info, warn or error, got \"x\\ny\"");
}

TEST_CASE("a config with a TOML syntax error gives its line and column") {
  CHECK(only_error("[policy]\npoll_interval = = \"5s\"\n") ==
        "t.toml:2:17: syntax error: Error while parsing value: could not determine value type");
  CHECK_THAT(only_error("[lock]\nttl = \"60s\"\nttl = \"30s\"\n"), Catch::StartsWith("t.toml:3:"));
  CHECK_THAT(only_error("[log]\nlevel = \"info\n"), Catch::StartsWith("t.toml:2:"));
}

TEST_CASE("a config reports several errors together, in file order") {
  const auto r = load(R"([etcd]
dial_timeout = "soon"
[policy]
poll_interval = "1x"
rule = "dbSize >"
[lock]
ttl = "5s"
[log]
level = "loud"
[extra]
)");
  REQUIRE(r.errors.size() == 6);
  CHECK_THAT(r.errors[0], Catch::StartsWith("t.toml:2:16: etcd.dial_timeout: invalid duration"));
  CHECK_THAT(r.errors[1], Catch::StartsWith("t.toml:4:17: policy.poll_interval: invalid duration"));
  CHECK_THAT(r.errors[2], Catch::StartsWith("t.toml:5:17: policy.rule: invalid rule"));
  CHECK_THAT(r.errors[3], Catch::StartsWith("t.toml:7:7: lock.ttl: must be at least 10s"));
  CHECK_THAT(r.errors[4], Catch::StartsWith("t.toml:9:9: log.level: expected trace"));
  CHECK_THAT(r.errors[5], Catch::StartsWith("t.toml:10:2: extra: unknown section"));
  CHECK_FALSE(r.config.has_value());
}

TEST_CASE("a config's unknown section and bad values are reported in the same pass") {
  const auto r = load("[polcy]\nx = 1\n[policy]\npoll_interval = \"1\"\n");
  REQUIRE(r.errors.size() == 2);
  CHECK_THAT(r.errors[0], Catch::StartsWith("t.toml:1:2: polcy: unknown section"));
  CHECK_THAT(r.errors[1], Catch::StartsWith("t.toml:4:17: policy.poll_interval:"));
}

TEST_CASE("a config rejects bad endpoints at the entry that is wrong") {
  CHECK_THAT(only_error("[etcd]\nendpoints = [\"10.0.0.1:2379\", \"10.0.0.2\"]\n"),
             Catch::StartsWith("t.toml:2:31: etcd.endpoints[1]: invalid endpoint \"10.0.0.2\": "
                               "missing port"));
  CHECK(only_error("[etcd]\nendpoints = []\n") ==
        "t.toml:2:13: etcd.endpoints: lists no endpoint; name at least this host's member");
  CHECK_THAT(only_error("[etcd]\nlocal_endpoint = \"ftp://x:1\"\n"),
             Catch::StartsWith("t.toml:2:18: etcd.local_endpoint: invalid endpoint \"ftp://x:1\": "
                               "unsupported scheme"));
}

TEST_CASE("a config's lock TTL must outlive etcd's command timeout") {
  CHECK(only_error("[etcd]\ncommand_timeout = \"30s\"\n[lock]\nttl = \"20s\"\n") ==
        "t.toml:4:7: lock.ttl: must be longer than etcd.command_timeout (30s), got 20s: a "
        "keep-alive that hangs must fail before the lease expires");
  CHECK(only_error("[etcd]\ncommand_timeout = \"90s\"\n") ==
        "t.toml:2:19: etcd.command_timeout: must be shorter than lock.ttl (1m0s), got 1m30s: a "
        "keep-alive that hangs must fail before the lease expires");
}

TEST_CASE("a config warns when the lock TTL may not outlive a quota-sized leader defrag") {
  const auto r = load("[policy]\nquota_bytes = 8_589_934_592\n");
  REQUIRE(r.config.has_value());
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0],
             Catch::StartsWith("t.toml:2:15: policy.quota_bytes: 1m0s may not outlive the "
                               "leader's defrag of a 8589934592-byte database (about 171s"));
  const auto fine = load("[policy]\nquota_bytes = 8_589_934_592\n[lock]\nttl = \"3m\"\n");
  CHECK(fine.warnings.empty());
}

TEST_CASE("a config rejects other bad values with the allowed ones") {
  CHECK(value_error("policy", "move_leader", "\"yes\"") ==
        "t.toml:2:15: policy.move_leader: expected true, false or \"auto\", got \"yes\"");
  CHECK(value_error("policy", "move_leader", "\"true\"") ==
        "t.toml:2:15: policy.move_leader: expected true, false or \"auto\", got the string "
        "\"true\"; write true without quotes");
  CHECK(value_error("log", "format", "\"yaml\"") ==
        "t.toml:2:10: log.format: expected text or json, got \"yaml\"");
  CHECK_THAT(value_error("policy", "pause_file", "\"pause\""),
             Catch::StartsWith("t.toml:2:14: policy.pause_file: must be an absolute file path"));
  CHECK_THAT(value_error("lock", "prefix", "\"/etcd-defragd/lock/\""),
             Catch::StartsWith("t.toml:2:10: lock.prefix: must be a non-empty key prefix"));
  CHECK_THAT(value_error("etcd", "cacert", "\"certs/ca.pem\""),
             Catch::StartsWith("t.toml:2:10: etcd.cacert: must be an absolute path (systemd "
                               "starts the daemon in /), got \"certs/ca.pem\""));
}

TEST_CASE("a config rejects an etcd.data_dir that is not an absolute directory path") {
  for (const char* bad : {"\"var/lib/etcd\"", "\"\"", "\"./etcd\"", "\"/var/lib/etcd\\nx\""}) {
    CAPTURE(bad);
    CHECK_THAT(value_error("etcd", "data_dir", bad),
               Catch::StartsWith("t.toml:2:12: etcd.data_dir: must be an absolute directory path "
                                 "(etcd's --data-dir on this host), got "));
  }
  const auto fine = load("[etcd]\ndata_dir = \"/srv/etcd\"\n");
  CHECK(fine.errors.empty());
  REQUIRE(fine.config.has_value());
  CHECK(fine.config->etcd.data_dir == "/srv/etcd");
  CHECK(load("").config->etcd.data_dir == "/var/lib/etcd");
}

TEST_CASE("a config larger than the limit is refused before parsing") {
  const auto r = load_config_string(std::string(edd::config::kMaxConfigBytes + 1, '#'), "big.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK_THAT(r.errors[0], Catch::StartsWith("big.toml: the config is 1048577 bytes long"));
}

TEST_CASE("a config file that does not exist is one error naming the path") {
  const auto r = edd::config::load_config_file("/nonexistent/etcd-defragd.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] ==
        "/nonexistent/etcd-defragd.toml: cannot read \"/nonexistent/etcd-defragd.toml\": No such "
        "file or directory");
}
