#include "cli/defrag_command.h"

#include <iostream>

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

}  // namespace

int DefragCommand::run() const {
  // 1. Validate everything before touching the cluster.
  if (skip_healthcheck_cluster_endpoints && connection.cluster) {
    return usage("--skip-healthcheck-cluster-endpoints cannot be combined with --cluster");
  }
  if (skip_healthcheck_cluster_endpoints && !discovery_srv.empty()) {
    return usage("--skip-healthcheck-cluster-endpoints cannot be combined with --discovery-srv");
  }
  // Like etcd-defrag, the threshold only matters (and is only checked) with --auto-disalarm: an
  // ETCD_DEFRAG_DISALARM_THRESHOLD left in the environment must not break plain runs.
  if (auto_disalarm && !(disalarm_threshold > 0 && disalarm_threshold < 1)) {
    return usage("--disalarm-threshold: must be between 0 and 1 (exclusive), got " +
                 std::to_string(disalarm_threshold));
  }
  auto rule = rule::Rule::parse(defrag_rule);
  if (!rule) return usage("--defrag-rule: " + rule.error().message);
  auto wait = parse_go_duration(wait_between_defrags);
  if (!wait) return usage("--wait-between-defrags: " + wait.error().message);
  if (wait->count() < 0) return usage("--wait-between-defrags: must not be negative");
  auto options = connection.to_client_options();
  if (!options) return usage(options.error().message);

  std::ostream& progress = write_out == "json" ? std::cerr : std::cout;
  auto say = [&progress](const std::string& line) { progress << line << std::endl; };

  say("Validating configuration.");
  if (rule->is_always()) {
    say("No defragmentation rule provided");
  } else {
    say("Validating the defragmentation rule: " + rule->text() + " ... valid");
  }

  std::vector<std::string> seeds = options->endpoints;
  if (!discovery_srv.empty()) {
    auto found = etcd::discover_srv_endpoints(discovery_srv, discovery_srv_name, insecure_discovery,
                                              srv_lookup ? srv_lookup : etcd::system_srv_lookup());
    if (!found) {
      std::cerr << "etcd-defragd defrag: " << found.error().message << "\n";
      return 1;
    }
    seeds = *found;
    options->endpoints = seeds;
  }
  auto client = etcd::GrpcClusterClient::create(*options);
  if (!client) return usage(client.error().message);

  defrag::RunOptions run_options;
  run_options.cluster = connection.cluster || !discovery_srv.empty();
  run_options.skip_healthcheck_cluster_endpoints = skip_healthcheck_cluster_endpoints;
  // etcd-defrag drops loopback URLs only from the member list (--cluster), where members often
  // advertise 127.0.0.1 next to their real address; an endpoint the user named is always used.
  run_options.exclude_localhost = exclude_localhost && connection.cluster;
  run_options.compaction = compaction;
  run_options.continue_on_error = continue_on_error;
  run_options.dry_run = dry_run;
  run_options.move_leader = move_leader ? policy::MoveLeader::kAlways : policy::MoveLeader::kNever;
  run_options.auto_disalarm = auto_disalarm;
  run_options.disalarm_threshold = disalarm_threshold;
  run_options.consistency_check = consistency_check;
  run_options.wait_between_defrags = std::chrono::duration_cast<std::chrono::milliseconds>(*wait);
  run_options.command_timeout = options->command_timeout;
  run_options.view.flag_quota_bytes = connection.storage_quota_bytes;
  run_options.view.quota_probe = etcd::make_metrics_quota_probe(*options);

  SystemClock clock;
  defrag::Runner runner(**client, clock, *rule, run_options, say);
  const defrag::RunReport report = runner.run(seeds);

  if (write_out == "json") {
    std::cout << render_defrag_json(report);
  } else {
    std::cout << render_defrag_summary(report);
    if (report.outcome == defrag::Outcome::kSuccess) {
      std::cout << "The defragmentation is successful.\n";
    }
  }
  return report.exit_code();
}

}  // namespace edd::cli
