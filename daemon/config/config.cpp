#include "config/config.h"

#include <cstdlib>

namespace edd::config {

rule::Rule PolicyConfig::default_rule() {
  auto parsed = rule::Rule::parse(kDefaultRule);
  if (!parsed) std::abort();  // the built-in default is a constant: impossible
  return std::move(parsed).value();
}

RunSettings run_settings(const Config& config) {
  RunSettings s;
  s.cluster = config.etcd.cluster;
  s.compaction = config.policy.compaction;
  s.continue_on_error = config.policy.continue_on_error;
  s.dry_run = config.policy.dry_run;
  s.move_leader = config.policy.move_leader;
  s.move_leader_min_stall = config.policy.move_leader_min_stall;
  s.auto_disalarm = config.policy.auto_disalarm;
  s.disalarm_threshold = config.policy.disalarm_threshold;
  s.consistency_check = config.policy.consistency_check;
  s.wait_between_defrags = config.policy.wait_between_defrags;
  s.command_timeout = config.etcd.command_timeout;
  s.flag_quota_bytes = config.policy.fallback_quota_bytes();
  return s;
}

std::string_view to_string(MoveLeader m) {
  switch (m) {
    case MoveLeader::kNever:
      return "false";
    case MoveLeader::kAlways:
      return "true";
    case MoveLeader::kAuto:
      return "auto";
  }
  return "auto";
}

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string_view to_string(LogFormat f) { return f == LogFormat::kJson ? "json" : "text"; }

}  // namespace edd::config
