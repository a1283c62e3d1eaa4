// How a run behaves: the choices an operator makes, through the daemon's [policy] section or the
// defrag command's flags. Defined once here and used by the config, the CLI and the runner, so a
// new choice is added in one place. The defaults are etcd-defrag's (the CLI is its drop-in); the
// daemon's config chooses its own (config/config.h).
#pragma once

#include <chrono>
#include <string_view>

#include "policy/reclaim_floor.h"

namespace edd::policy {

enum class MoveLeader {
  kNever,   // config: move_leader = false; CLI: no --move-leader
  kAlways,  // config: move_leader = true; CLI: --move-leader
  kAuto,    // config: move_leader = "auto": only when the leader's expected defrag is long
};
std::string_view to_string(MoveLeader m);  // "false", "true", "auto": as the config spells it

struct RunPolicy {
  bool compaction = true;
  bool continue_on_error = true;
  bool dry_run = false;
  MoveLeader move_leader = MoveLeader::kNever;
  // With kAuto, leadership moves only when the leader's expected defrag (its in-use bytes at the
  // speed the followers' defrags showed in this run) exceeds this: a leader's defrag holds every
  // lease keep-alive in the cluster, but a move can fail calls in flight.
  std::chrono::milliseconds move_leader_min_stall{std::chrono::seconds(1)};
  bool auto_disalarm = false;
  double disalarm_threshold = 0.9;  // every member under this share of its quota, in (0, 1)
  bool consistency_check = true;    // HashKV on every member after the run
  std::chrono::milliseconds wait_between_defrags{0};
  // A member is defragmented only if it would give back at least this (dbSize - dbSizeInUse),
  // whatever the rule says, except to clear NOSPACE. 0: etcd-defrag's behaviour (no floor).
  ReclaimFloor min_reclaim{};
};

}  // namespace edd::policy
