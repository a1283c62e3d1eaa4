// `etcd-defragd defrag` is a drop-in for etcd-defrag v0.42. Every case runs the same
// command line (and environment) through the real etcd-defrag and through ours on the same
// cluster, prepared the same way before each, and compares what a user sees. A difference is
// either a bug or listed in README's "Drop-in: what differs from etcd-defrag, and why" and
// encoded here as the case's `ours`.
#include "compat_helpers.h"

// Each case names only the fields it sets (designated initializers); GCC 12's
// -Wmissing-field-initializers would flag every omitted one even though each has a default.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using namespace edd::test;
using namespace edd::test::compat;

namespace {

const std::set<std::string> kNone;
const std::set<std::string> kNospace = {"NOSPACE"};
constexpr std::int64_t kQuota = 16LL * 1024 * 1024;
// Where a member cannot answer, etcd-defrag waits its whole command timeout (30 s) for it.
constexpr char kShortTimeout[] = "--command-timeout=3s";

Seen seen(int exit_code, std::vector<int> order, bool compacted, std::set<std::string> alarms = {},
          bool leader_moved = false) {
  return Seen{exit_code, std::move(order), compacted, std::move(alarms), leader_moved};
}

// etcd-defrag exits 1 on every usage error (cobra and its own validation); we exit 2, as
// etcdctl-style tools and our README do. Nothing is touched by either.
const Seen kTheirUsage = seen(1, {}, false);
const Seen kOurUsage = seen(2, {}, false);
const char kWhyUsage[] = "usage errors exit 2 (etcd-defrag: 1)";

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// Writes 1 MiB values until the cluster raises NOSPACE (the 16 MiB quota).
void fill(EtcdCluster& c) { REQUIRE(fill_until_nospace(c, 1024 * 1024)); }

// Waits (bounded) until the first member of this run finished its defrag, then stops `member`:
// the next one in line is down when the tool gets to it.
std::function<void(EtcdCluster&, std::size_t)> stop_after_first_defrag(int member) {
  return [member](EtcdCluster& c, std::size_t before) {
    for (int i = 0; i < 600; ++i) {
      const auto events = c.defrag_events();
      bool finished = false;
      for (std::size_t e = before; e < events.size(); ++e) {
        finished = finished || events[e].msg == "finished defragment";
      }
      if (finished) {
        c.stop_member(member);
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
    FAIL("no defrag finished within 60 s");
  };
}

// Fragments every member, then defragments `member` alone: its dbSize is now unlike the others'.
std::function<void(EtcdCluster&)> make_sizes_differ(int member) {
  return [member](EtcdCluster& c) {
    c.write_and_fragment(2LL * 1024 * 1024);
    c.etcdctl_ok({"defrag"}, c.client_endpoint(member));
  };
}

// A rule that divides by zero on `member` only (both tools treat that as an evaluation error).
// Only with --compaction=false: a compaction writes, which grows a just-defragmented file.
// The size is read once it has held still for a second: etcd may still be finishing a write or
// a compaction of the preparation, and a size that moves makes the rule true there.
std::function<std::vector<std::string>(EtcdCluster&)> rule_failing_on(int member) {
  return [member](EtcdCluster& c) {
    auto size_now = [&] {
      return c.endpoint_status(c.client_endpoint(member)).front().db_size_bytes;
    };
    auto size = size_now();
    for (int stable = 0, tries = 0; stable < 2 && tries < 20; ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const auto now = size_now();
      stable = now == size ? stable + 1 : 0;
      size = now;
    }
    return std::vector<std::string>{"--defrag-rule=1 / (dbSize - " + std::to_string(size) +
                                    ") != 0"};
  };
}

// The NOSPACE / auto-disalarm cases, the same on a plain and a TLS cluster.
std::vector<Case> nospace_cases(const Roles& r, const std::vector<std::string>& base) {
  auto args = [&](std::vector<std::string> more) {
    more.insert(more.begin(), base.begin(), base.end());
    return more;
  };
  const std::vector<int> all = {r.f1, r.f2, r.leader};
  std::vector<Case> cases;
  cases.push_back({.name = "NOSPACE, --cluster without --auto-disalarm: the alarm stays",
                   .args = args({"--cluster"}),
                   .theirs = seen(0, all, true, kNospace),
                   .prepare = fill});
  cases.push_back({.name = "NOSPACE, README: --cluster --auto-disalarm",
                   .args = args({"--cluster", "--auto-disalarm"}),
                   .theirs = seen(0, all, true, kNone),
                   .prepare = fill});
  cases.push_back({.name = "NOSPACE, README: --auto-disalarm --disalarm-threshold=0.7",
                   .args = args({"--cluster", "--auto-disalarm", "--disalarm-threshold=0.7"}),
                   .theirs = seen(0, all, true, kNone),
                   .prepare = fill});
  cases.push_back(
      {.name = "NOSPACE, --disalarm-threshold=0.01: under 1% of the member's real quota?",
       .args = args({"--cluster", "--auto-disalarm", "--disalarm-threshold=0.01"}),
       .theirs = seen(0, all, true, kNone),
       .ours = seen(0, all, true, kNospace),
       .why = "the quota is the member's own (etcd 3.6 Status), not --etcd-storage-quota-bytes",
       .prepare = fill});
  cases.push_back(
      {.name = "NOSPACE, ETCD_DEFRAG_AUTO_DISALARM and ETCD_DEFRAG_DISALARM_THRESHOLD",
       .args = args({"--cluster"}),
       .env = {{"ETCD_DEFRAG_AUTO_DISALARM", "true"}, {"ETCD_DEFRAG_DISALARM_THRESHOLD", "0.7"}},
       .theirs = seen(0, all, true, kNone),
       .prepare = fill});
  return cases;
}

std::unique_ptr<EtcdCluster> start(Security security, std::int64_t quota) {
  ClusterOptions o;
  o.security = security;
  o.quota_backend_bytes = quota;
  o.name = "compat";
  return EtcdCluster::start(o);
}

}  // namespace

TEST_CASE("compat: bad flags and rules and durations fail in both tools and touch nothing",
          "[compat]") {
  if (!etcd_defrag_installed()) return;
  auto c = start(Security::kPlain, 0);
  const Roles r = roles_of(*c);
  const std::string f1 = url(*c, r.f1);
  const std::string ep = "--endpoints=" + f1;
  auto usage = [&](std::string name, std::vector<std::string> args,
                   std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), ep);
    return Case{.name = std::move(name),
                .args = std::move(args),
                .env = std::move(env),
                .theirs = kTheirUsage,
                .ours = kOurUsage,
                .why = kWhyUsage};
  };
  const std::vector<Case> cases = {
      usage("unknown flag", {"--no-such-flag"}),
      usage("a rule that does not parse", {"--defrag-rule=dbSize >"}),
      usage("a rule naming an unknown variable", {"--defrag-rule=dbsize > 1"}),
      usage("a rule that is not boolean", {"--defrag-rule=dbSize + 1"}),
      usage("a duration without a unit", {"--command-timeout=5"}),
      usage("a duration that is not one", {"--dial-timeout=fast"}),
      usage("a bool flag with a non-bool value", {"--compaction=maybe"}),
      usage("--auto-disalarm with --disalarm-threshold out of (0,1)",
            {"--auto-disalarm", "--disalarm-threshold=1.5"}),
      usage("--skip-healthcheck-cluster-endpoints with --cluster",
            {"--skip-healthcheck-cluster-endpoints", "--cluster"}),
      usage("--etcd-storage-quota-bytes=0", {"--etcd-storage-quota-bytes=0"}),
      usage("an empty --cacert", {"--cacert="}),
      usage("ETCD_DEFRAG_ETCD_STORAGE_QUOTA_BYTES=0", {},
            {{"ETCD_DEFRAG_ETCD_STORAGE_QUOTA_BYTES", "0"}}),
      usage("ETCD_DEFRAG_SKIP_HEALTHCHECK_CLUSTER_ENDPOINTS with --cluster", {"--cluster"},
            {{"ETCD_DEFRAG_SKIP_HEALTHCHECK_CLUSTER_ENDPOINTS", "true"}}),
      {.name = "--version prints the version and touches nothing",
       .args = {ep, "--version"},
       .theirs = seen(0, {}, false)},
      {.name = "ETCD_DEFRAG_VERSION prints the version and touches nothing",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_VERSION", "true"}},
       .theirs = seen(0, {}, false)},
      {.name = "--disalarm-threshold out of range is ignored without --auto-disalarm",
       .args = {ep, "--disalarm-threshold=1.5"},
       .theirs = seen(0, {r.f1}, true)},
  };
  for (const auto& k : cases) run_case(*c, k, r.leader);
}

TEST_CASE(
    "compat: the README examples and every flag and its ETCD_DEFRAG_ variable on a plain cluster",
    "[compat]") {
  if (!etcd_defrag_installed()) return;
  auto c = start(Security::kPlain, kQuota);
  const Roles r = roles_of(*c);
  const std::string f1 = url(*c, r.f1), f2 = url(*c, r.f2), l = url(*c, r.leader);
  const std::vector<int> all = {r.f1, r.f2, r.leader};
  const std::string ep = "--endpoints=" + f1;
  std::vector<Case> cases = {
      {.name = "README example 1: one endpoint", .args = {ep}, .theirs = seen(0, {r.f1}, true)},
      {.name = "README example 2: two endpoints",
       .args = {"--endpoints=" + join({f1, f2})},
       .theirs = seen(0, {r.f1, r.f2}, true)},
      {.name = "two endpoints, the leader given first, defragmented last",
       .args = {"--endpoints=" + join({l, f2})},
       .theirs = seen(0, {r.f2, r.leader}, true)},
      {.name = "README example 3: --cluster",
       .args = {"--endpoints", f2, "--cluster"},
       .theirs = seen(0, all, true)},
      {.name = "README rule: dbSize > dbQuota*80/100 || dbSize - dbSizeInUse > 200*1024*1024",
       .args = {ep, "--cluster",
                "--defrag-rule=dbSize > dbQuota*80/100 || dbSize - dbSizeInUse > 200*1024*1024"},
       .theirs = seen(0, {}, true)},
      {.name = "README rule: dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024",
       .args = {ep, "--cluster", "--defrag-rule=dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024"},
       .theirs = seen(0, {}, true)},
      {.name = "README rule: dbSize > dbQuota*80/100 && dbSize - dbSizeInUse > 200*1024*1024",
       .args = {ep, "--cluster",
                "--defrag-rule=dbSize > dbQuota*80/100 && dbSize - dbSizeInUse > 200*1024*1024"},
       .theirs = seen(0, {}, true)},
      {.name = "a rule true for every member",
       .args = {ep, "--cluster", "--defrag-rule=dbSize > 0 && dbSizeInUse >= 0"},
       .theirs = seen(0, all, true)},
      {.name = "--dry-run", .args = {ep, "--cluster", "--dry-run"}, .theirs = seen(0, {}, false)},
      {.name = "--compaction=false",
       .args = {ep, "--cluster", "--compaction=false"},
       .theirs = seen(0, all, false)},
      {.name = "--move-leader",
       .args = {ep, "--cluster", "--move-leader"},
       .theirs = seen(0, all, true, kNone, true)},
      {.name = "--wait-between-defrags=1s",
       .args = {"--endpoints=" + join({f1, f2}), "--wait-between-defrags=1s"},
       .theirs = seen(0, {r.f1, r.f2}, true)},
      {.name = "--exclude-localhost with explicit endpoints",
       .args = {ep, "--exclude-localhost"},
       .theirs = seen(0, {r.f1}, true)},
      {.name = "--exclude-localhost --cluster --compaction=false on a loopback cluster",
       .args = {ep, "--cluster", "--exclude-localhost", "--compaction=false"},
       .theirs = seen(0, {}, false)},
      {.name = "--exclude-localhost --cluster on a loopback cluster",
       .args = {ep, "--cluster", "--exclude-localhost"},
       .theirs = seen(2, {}, false),  // Go's index-out-of-range panic: no member to compact on
       .ours = seen(0, {}, true),
       .why = "etcd-defrag panics (exit 2) when --exclude-localhost leaves no endpoint; we "
              "compact, as when a rule skips every member, and exit 0"},
      {.name = "--skip-healthcheck-cluster-endpoints",
       .args = {ep, "--skip-healthcheck-cluster-endpoints"},
       .theirs = seen(0, {r.f1}, true)},
      {.name = "a stopped member: the health check stops the run",
       .args = {ep, "--cluster", kShortTimeout},
       .theirs = seen(1, {}, false),
       .prepare = [&](EtcdCluster& cl) { cl.stop_member(r.f2); }},
      {.name = "a stopped member not among --endpoints with --skip-healthcheck-cluster-endpoints",
       .args = {"--endpoints=" + join({f1, l}), "--skip-healthcheck-cluster-endpoints"},
       .theirs = seen(0, {r.f1, r.leader}, true),
       .prepare = [&](EtcdCluster& cl) { cl.stop_member(r.f2); }},
      {.name = "a member stops mid-run, --continue-on-error=false",
       .args = {"--endpoints=" + join({f1, f2, l}), "--wait-between-defrags=3s", kShortTimeout,
                "--continue-on-error=false"},
       .theirs = seen(1, {r.f1}, true),
       .during = stop_after_first_defrag(r.f2)},
      {.name = "a member stops mid-run, ETCD_DEFRAG_CONTINUE_ON_ERROR=false",
       .args = {"--endpoints=" + join({f1, f2, l}), "--wait-between-defrags=3s", kShortTimeout},
       .env = {{"ETCD_DEFRAG_CONTINUE_ON_ERROR", "false"}},
       .theirs = seen(1, {r.f1}, true),
       .during = stop_after_first_defrag(r.f2)},
      {.name = "a member stops mid-run, --continue-on-error (default true)",
       .args = {"--endpoints=" + join({f1, f2, l}), "--wait-between-defrags=3s", kShortTimeout},
       .theirs = seen(1, {r.f1, r.leader}, true),
       .ours = seen(1, {r.f1}, true),
       .why = "every voter is health-checked before each member: a member down stops the run, "
              "--continue-on-error only covers a failed defrag",
       .during = stop_after_first_defrag(r.f2)},
      {.name = "a rule that fails on the first member, --continue-on-error=false",
       .args = {"--endpoints=" + join({f1, f2, l}), "--compaction=false",
                "--continue-on-error=false"},
       .theirs = seen(1, {}, false),
       .prepare = make_sizes_differ(r.f1),
       .more_args = rule_failing_on(r.f1)},
      {.name = "a rule that fails on the first member, --continue-on-error (default true)",
       .args = {"--endpoints=" + join({f1, f2, l}), "--compaction=false"},
       .theirs = seen(1, {r.f2, r.leader}, false),
       .prepare = make_sizes_differ(r.f1),
       .more_args = rule_failing_on(r.f1)},
      // Every flag's ETCD_DEFRAG_ variable (TLS, auth and auto-disalarm ones in their tests).
      {.name = "ETCD_DEFRAG_ENDPOINTS",
       .env = {{"ETCD_DEFRAG_ENDPOINTS", join({f1, f2})}},
       .theirs = seen(0, {r.f1, r.f2}, true)},
      {.name = "--endpoints beats ETCD_DEFRAG_ENDPOINTS",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_ENDPOINTS", join({f1, f2})}},
       .theirs = seen(0, {r.f1}, true)},
      {.name = "ETCD_DEFRAG_CLUSTER",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_CLUSTER", "true"}},
       .theirs = seen(0, all, true)},
      {.name = "ETCD_DEFRAG_DIAL_TIMEOUT, _COMMAND_TIMEOUT, _KEEPALIVE_TIME, _KEEPALIVE_TIMEOUT",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_DIAL_TIMEOUT", "3s"},
               {"ETCD_DEFRAG_COMMAND_TIMEOUT", "1m"},
               {"ETCD_DEFRAG_KEEPALIVE_TIME", "3s"},
               {"ETCD_DEFRAG_KEEPALIVE_TIMEOUT", "7s"}},
       .theirs = seen(0, {r.f1}, true)},
      {.name = "ETCD_DEFRAG_COMMAND_TIMEOUT too short for anything",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_COMMAND_TIMEOUT", "1ns"}},
       .theirs = seen(1, {}, false)},
      {.name = "ETCD_DEFRAG_DIAL_TIMEOUT that is not a duration",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_DIAL_TIMEOUT", "soon"}},
       .theirs = seen(0, {r.f1}, true),  // viper turns it into 0: no dial timeout
       .ours = kOurUsage,
       .why = "a malformed ETCD_DEFRAG_ value is rejected (etcd-defrag silently uses zero)"},
      {.name = "ETCD_DEFRAG_INSECURE_TRANSPORT=false on a plaintext cluster",
       .args = {"--endpoints=" + c->client_endpoint(r.f1), kShortTimeout},
       .env = {{"ETCD_DEFRAG_INSECURE_TRANSPORT", "false"}},
       .theirs = seen(1, {}, false)},
      {.name = "ETCD_DEFRAG_DISCOVERY_SRV names a domain without records",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_DISCOVERY_SRV", "compat.invalid"}},
       .theirs = seen(1, {}, false)},
      {.name = "ETCD_DEFRAG_DISCOVERY_SRV_NAME and _INSECURE_DISCOVERY without a domain",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_DISCOVERY_SRV_NAME", "compat"},
               {"ETCD_DEFRAG_INSECURE_DISCOVERY", "false"}},
       .theirs = seen(0, {r.f1}, true)},
      {.name = "ETCD_DEFRAG_COMPACTION=false",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_COMPACTION", "false"}},
       .theirs = seen(0, {r.f1}, false)},
      {.name = "ETCD_DEFRAG_DEFRAG_RULE",
       .args = {ep, "--cluster"},
       .env = {{"ETCD_DEFRAG_DEFRAG_RULE", "dbSize < 0"}},
       .theirs = seen(0, {}, true)},
      {.name = "ETCD_DEFRAG_DRY_RUN",
       .args = {ep, "--cluster"},
       .env = {{"ETCD_DEFRAG_DRY_RUN", "true"}},
       .theirs = seen(0, {}, false)},
      {.name = "ETCD_DEFRAG_ETCD_STORAGE_QUOTA_BYTES",
       .args = {ep, "--defrag-rule=dbQuota == 1000000"},
       .env = {{"ETCD_DEFRAG_ETCD_STORAGE_QUOTA_BYTES", "1000000"}},
       .theirs = seen(0, {r.f1}, true),
       .ours = seen(0, {}, true),
       .why = "the quota is the member's own (etcd 3.6 Status), not --etcd-storage-quota-bytes"},
      {.name = "ETCD_DEFRAG_EXCLUDE_LOCALHOST",
       .args = {ep, "--cluster", "--compaction=false"},
       .env = {{"ETCD_DEFRAG_EXCLUDE_LOCALHOST", "true"}},
       .theirs = seen(0, {}, false)},
      {.name = "ETCD_DEFRAG_MOVE_LEADER",
       .args = {ep, "--cluster"},
       .env = {{"ETCD_DEFRAG_MOVE_LEADER", "true"}},
       .theirs = seen(0, all, true, kNone, true)},
      {.name = "ETCD_DEFRAG_WAIT_BETWEEN_DEFRAGS",
       .args = {"--endpoints=" + join({f1, f2})},
       .env = {{"ETCD_DEFRAG_WAIT_BETWEEN_DEFRAGS", "1s"}},
       .theirs = seen(0, {r.f1, r.f2}, true)},
      {.name = "ETCD_DEFRAG_SKIP_HEALTHCHECK_CLUSTER_ENDPOINTS with a member down elsewhere",
       .args = {"--endpoints=" + join({f1, l})},
       .env = {{"ETCD_DEFRAG_SKIP_HEALTHCHECK_CLUSTER_ENDPOINTS", "true"}},
       .theirs = seen(0, {r.f1, r.leader}, true),
       .prepare = [&](EtcdCluster& cl) { cl.stop_member(r.f2); }},
  };
  for (auto& k : nospace_cases(r, {ep})) cases.push_back(std::move(k));
  for (const auto& k : cases) run_case(*c, k, r.leader);
}

TEST_CASE("compat: the README's TLS examples and the TLS variables on a TLS cluster", "[compat]") {
  if (!etcd_defrag_installed()) return;
  auto c = start(Security::kTls, kQuota);
  const Roles r = roles_of(*c);
  const std::string f1 = url(*c, r.f1), f2 = url(*c, r.f2), l = url(*c, r.leader);
  const std::vector<std::string> tls = {"--cacert",           c->ca_file(), "--key",
                                        c->client_key_file(), "--cert",     c->client_cert_file()};
  auto with_tls = [&](std::vector<std::string> args) {
    args.insert(args.end(), tls.begin(), tls.end());
    return args;
  };
  const std::vector<int> all = {r.f1, r.f2, r.leader};
  std::vector<Case> cases = {
      {.name = "TLS README example 1: one endpoint",
       .args = with_tls({"--endpoints=" + f1}),
       .theirs = seen(0, {r.f1}, true)},
      {.name = "TLS README example 2: two endpoints",
       .args = with_tls({"--endpoints=" + join({f1, f2})}),
       .theirs = seen(0, {r.f1, r.f2}, true)},
      {.name = "TLS README example 3: --cluster",
       .args = with_tls({"--endpoints", l, "--cluster"}),
       .theirs = seen(0, all, true)},
      {.name = "TLS README rule with --cluster",
       .args = with_tls({"--endpoints", f1, "--cluster",
                         "--defrag-rule=dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024"}),
       .theirs = seen(0, {}, true)},
      {.name = "ETCD_DEFRAG_CACERT, _CERT, _KEY",
       .args = {"--endpoints=" + f1},
       .env = {{"ETCD_DEFRAG_CACERT", c->ca_file()},
               {"ETCD_DEFRAG_CERT", c->client_cert_file()},
               {"ETCD_DEFRAG_KEY", c->client_key_file()}},
       .theirs = seen(0, {r.f1}, true)},
      {.name = "ETCD_DEFRAG_INSECURE_SKIP_TLS_VERIFY without a CA",
       .args = {"--endpoints=" + f1, "--cert", c->client_cert_file(), "--key",
                c->client_key_file()},
       .env = {{"ETCD_DEFRAG_INSECURE_SKIP_TLS_VERIFY", "true"}},
       .theirs = seen(0, {r.f1}, true)},
      {.name = "TLS without a CA and without skipping verification",
       .args = {"--endpoints=" + f1, "--cert", c->client_cert_file(), "--key", c->client_key_file(),
                kShortTimeout},
       .theirs = seen(1, {}, false)},
  };
  for (auto& k : nospace_cases(r, with_tls({"--endpoints=" + f1}))) cases.push_back(std::move(k));
  for (const auto& k : cases) run_case(*c, k, r.leader);
}

TEST_CASE("compat: user and password from the environment on an auth cluster", "[compat]") {
  if (!etcd_defrag_installed()) return;
  auto c = start(Security::kAuth, 0);
  const Roles r = roles_of(*c);
  const std::string ep = "--endpoints=" + url(*c, r.f1);
  const std::vector<Case> cases = {
      {.name = "root through ETCD_DEFRAG_USER and ETCD_DEFRAG_PASSWORD",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_USER", "root"}, {"ETCD_DEFRAG_PASSWORD", c->root_password()}},
       .theirs = seen(0, {r.f1}, true)},
      {.name = "root as ETCD_DEFRAG_USER=name:password, --cluster",
       .args = {ep, "--cluster"},
       .env = {{"ETCD_DEFRAG_USER", "root:" + c->root_password()}},
       // etcd-defrag passes the whole "root:<password>" to etcd as the user name.
       .theirs = seen(1, {}, false),
       .ours = seen(0, {r.f1, r.f2, r.leader}, true),
       .why = "--user name:password works as both tools' help says (etcdctl's syntax)"},
      {.name = "a user without the root role: maintenance is refused",
       .args = {ep, "--cluster"},
       .env = {{"ETCD_DEFRAG_USER", c->user_name()}, {"ETCD_DEFRAG_PASSWORD", c->user_password()}},
       .theirs = seen(1, {}, false)},
      {.name = "a wrong password",
       .args = {ep},
       .env = {{"ETCD_DEFRAG_USER", "root"}, {"ETCD_DEFRAG_PASSWORD", "not-the-password"}},
       .theirs = seen(1, {}, false)},
  };
  for (const auto& k : cases) run_case(*c, k, r.leader);
}
