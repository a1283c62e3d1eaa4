// `etcd-defragd defrag`: one safe run now, a drop-in for the Go tool etcd-defrag (v0.42): the
// same flags with the same defaults and meaning, ETCD_DEFRAG_<FLAG> environment fallbacks.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/connection_flags.h"
#include "etcd/srv_discovery.h"

namespace edd::cli {

struct DefragCommand {
  ConnectionFlags connection;
  std::string discovery_srv;
  std::string discovery_srv_name;
  bool insecure_discovery = true;
  bool compaction = true;
  bool continue_on_error = true;
  std::string defrag_rule;
  bool dry_run = false;
  bool exclude_localhost = false;
  bool move_leader = false;
  std::string wait_between_defrags = "0s";
  bool skip_healthcheck_cluster_endpoints = false;
  bool auto_disalarm = false;
  double disalarm_threshold = 0.9;
  bool consistency_check = true;
  std::string min_reclaim = "0";  // the reclaim floor; 0 keeps etcd-defrag's behaviour
  std::string write_out = "simple";

  etcd::SrvLookup srv_lookup;  // empty: the system resolver

  void add_to(CLI::App& app);
  // Exit code: 0 all defragmented or skipped by the rule, 1 failure or abort, 2 bad usage.
  int run() const;
};

}  // namespace edd::cli
