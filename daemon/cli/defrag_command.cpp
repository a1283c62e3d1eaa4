#include "cli/defrag_command.h"

#include <chrono>
#include <functional>
#include <iostream>
#include <utility>

#include "cli/defrag_output.h"
#include "common/clock.h"
#include "common/duration.h"
#include "defrag/runner.h"
#include "etcd/grpc_cluster_client.h"
#include "etcd/metrics_probe.h"
#include "rule/rule.h"

namespace edd::cli {

void DefragCommand::add_to(CLI::App& app) {
  const EnvNamer env = etcd_defrag_env;
  connection.command_timeout = "30s";
  connection.add_to(app, env);
  auto opt = [&](const std::string& names, std::string& target, const std::string& help) {
    auto* o = app.add_option(names, target, help)->capture_default_str();
    const std::string flag = names.substr(names.rfind("--") + 2);
    o->envname(env(flag));
  };
  auto flag = [&](const std::string& name, bool& target, const std::string& help) {
    app.add_flag("--" + name, target, help)->capture_default_str()->envname(env(name));
  };
  opt("-d,--discovery-srv", discovery_srv,
      "domain name to query for SRV records describing "
      "cluster endpoints");
  opt("--discovery-srv-name", discovery_srv_name,
      "service name to query when using DNS "
      "discovery");
  flag("insecure-discovery", insecure_discovery,
       "accept insecure SRV records describing "
       "cluster endpoints");
  flag("compaction", compaction, "compact to the current revision before defragmenting");
  flag("continue-on-error", continue_on_error, "go on with the next member when one fails");
  opt("--defrag-rule", defrag_rule,
      "expression deciding whether a member is defragmented, e.g. "
      "\"dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024\"");
  flag("dry-run", dry_run, "check health, evaluate the rule and print the plan; change nothing");
  flag("exclude-localhost", exclude_localhost,
       "with --cluster, skip the members' localhost client URLs");
  flag("move-leader", move_leader,
       "move leadership to a defragmented, caught-up follower before "
       "defragmenting the leader");
  opt("--wait-between-defrags", wait_between_defrags, "pause between members (Go duration)");
  flag("skip-healthcheck-cluster-endpoints", skip_healthcheck_cluster_endpoints,
       "check the health of the given endpoints only, not every cluster member");
  flag("auto-disalarm", auto_disalarm,
       "disarm NOSPACE when every member is under quota x "
       "--disalarm-threshold after the run");
  app.add_option("--disalarm-threshold", disalarm_threshold,
                 "fraction of the quota under which NOSPACE may be disarmed, in (0,1)")
      ->capture_default_str()
      ->envname(env("disalarm-threshold"));
  flag("consistency-check", consistency_check, "compare HashKV on every member after the run");
  app.add_option("-w,--write-out", write_out,
                 "output: simple or json (a summary on stdout, "
                 "progress on stderr)")
      ->capture_default_str()
      ->check(CLI::IsMember({"simple", "json"}));
}

namespace {

int usage(const std::string& message) {
  std::cerr << "etcd-defragd defrag: " << message << "\n";
  return 2;
}

// What the flags say once every one of them has been checked.
struct CheckedFlags {
  rule::Rule rule;
  std::chrono::milliseconds wait{0};
  etcd::ClientOptions client;
};

// Step 1: every flag is validated before anything touches the cluster; an error is bad usage.
Result<CheckedFlags> check_flags(const DefragCommand& c) {
  auto bad = [](std::string message) {
    return make_error(ErrorCode::kInvalidArgument, std::move(message));
  };
  if (c.skip_healthcheck_cluster_endpoints && c.connection.cluster) {
    return bad("--skip-healthcheck-cluster-endpoints cannot be combined with --cluster");
  }
  if (c.skip_healthcheck_cluster_endpoints && !c.discovery_srv.empty()) {
    return bad("--skip-healthcheck-cluster-endpoints cannot be combined with --discovery-srv");
  }
  // Like etcd-defrag, the threshold only matters (and is only checked) with --auto-disalarm: an
  // ETCD_DEFRAG_DISALARM_THRESHOLD left in the environment must not break plain runs.
  if (c.auto_disalarm && !(c.disalarm_threshold > 0 && c.disalarm_threshold < 1)) {
    return bad("--disalarm-threshold: must be between 0 and 1 (exclusive), got " +
               std::to_string(c.disalarm_threshold));
  }
  auto rule = rule::Rule::parse(c.defrag_rule);
  if (!rule) return bad("--defrag-rule: " + rule.error().message);
  auto wait = parse_go_duration(c.wait_between_defrags);
  if (!wait) return bad("--wait-between-defrags: " + wait.error().message);
  if (wait->count() < 0) return bad("--wait-between-defrags: must not be negative");
  auto options = c.connection.to_client_options();
  if (!options) return bad(options.error().message);
  return CheckedFlags{std::move(*rule),
                      std::chrono::duration_cast<std::chrono::milliseconds>(*wait),
                      std::move(*options)};
}

void say_rule(const rule::Rule& rule, const std::function<void(const std::string&)>& say) {
  say("Validating configuration.");
  if (rule.is_always()) {
    say("No defragmentation rule provided");
  } else {
    say("Validating the defragmentation rule: " + rule.text() + " ... valid");
  }
}

// The endpoints to start from: --endpoints, or with --discovery-srv the SRV records' (which then
// also become the client's endpoints).
Result<std::vector<std::string>> find_seeds(const DefragCommand& c, etcd::ClientOptions& client) {
  if (c.discovery_srv.empty()) return client.endpoints;
  auto found =
      etcd::discover_srv_endpoints(c.discovery_srv, c.discovery_srv_name, c.insecure_discovery,
                                   c.srv_lookup ? c.srv_lookup : etcd::system_srv_lookup());
  if (found) client.endpoints = *found;
  return found;
}

defrag::RunOptions run_options_of(const DefragCommand& c, const CheckedFlags& flags) {
  defrag::RunOptions o;
  o.cluster = c.connection.cluster || !c.discovery_srv.empty();
  o.skip_healthcheck_cluster_endpoints = c.skip_healthcheck_cluster_endpoints;
  // etcd-defrag drops loopback URLs only from the member list (--cluster), where members often
  // advertise 127.0.0.1 next to their real address; an endpoint the user named is always used.
  o.exclude_localhost = c.exclude_localhost && c.connection.cluster;
  o.compaction = c.compaction;
  o.continue_on_error = c.continue_on_error;
  o.dry_run = c.dry_run;
  o.move_leader = c.move_leader ? policy::MoveLeader::kAlways : policy::MoveLeader::kNever;
  o.auto_disalarm = c.auto_disalarm;
  o.disalarm_threshold = c.disalarm_threshold;
  o.consistency_check = c.consistency_check;
  o.wait_between_defrags = flags.wait;
  o.command_timeout = flags.client.command_timeout;
  o.view.flag_quota_bytes = c.connection.storage_quota_bytes;
  o.view.quota_probe = etcd::make_metrics_quota_probe(flags.client);
  return o;
}

void print_report(const std::string& write_out, const defrag::RunReport& report) {
  if (write_out == "json") {
    std::cout << render_defrag_json(report);
    return;
  }
  std::cout << render_defrag_summary(report);
  if (report.outcome == defrag::Outcome::kSuccess) {
    std::cout << "The defragmentation is successful.\n";
  }
}

}  // namespace

int DefragCommand::run() const {
  auto flags = check_flags(*this);
  if (!flags) return usage(flags.error().message);
  std::ostream& progress = write_out == "json" ? std::cerr : std::cout;
  auto say = [&progress](const std::string& line) { progress << line << std::endl; };
  say_rule(flags->rule, say);

  auto seeds = find_seeds(*this, flags->client);
  if (!seeds) {
    std::cerr << "etcd-defragd defrag: " << seeds.error().message << "\n";
    return 1;
  }
  auto client = etcd::GrpcClusterClient::create(flags->client);
  if (!client) return usage(client.error().message);

  SystemClock clock;
  defrag::RunOptions options = run_options_of(*this, *flags);
  // What the daemons published, when they run (at the default lock prefix); else every member's
  // room is unknown and the run says so.
  options.disk_rooms = [&client, &seeds] {
    return defrag::read_disk_rooms(**client, *seeds, defrag::kDefaultDiskRoomPrefix);
  };
  defrag::Runner runner(**client, clock, flags->rule, options, say);
  const defrag::RunReport report = runner.run(*seeds);
  print_report(write_out, report);
  return report.exit_code();
}

}  // namespace edd::cli
