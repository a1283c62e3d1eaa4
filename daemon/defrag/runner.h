// One run of the operators' procedure against a live cluster: discover the members, the health
// gate, compaction, followers one at a time and the leader last with a catch-up between members,
// an optional leader move, the NOSPACE disarm and a HashKV consistency check. The same engine
// serves the `defrag` CLI and the daemon. Not thread-safe: one Runner, one run at a time.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "defrag/disk_room.h"
#include "defrag/planner.h"
#include "defrag/report.h"
#include "etcd/cluster_client.h"
#include "etcd/cluster_view.h"
#include "policy/run_policy.h"
#include "rule/rule.h"

namespace edd::defrag {

// The operator's choices (policy::RunPolicy) and what the engine needs besides.
struct RunOptions : policy::RunPolicy {
  bool cluster = false;  // discover members with MemberList
  bool skip_healthcheck_cluster_endpoints = false;
  bool exclude_localhost = false;
  std::chrono::milliseconds command_timeout{30000};
  std::chrono::milliseconds catch_up_timeout{60000};
  std::chrono::milliseconds poll_step{10};
  etcd::ViewOptions view;  // where quotas come from
  // Asked before every step that changes the cluster; an error stops the run there. The daemon
  // checks here that it still owns the lock.
  std::function<Status()> before_step;
  // Told which member is about to block in Defragment ("" once it is back), so lease
  // keep-alives can go elsewhere.
  std::function<void(const std::string& endpoint)> defragmenting;
  // The room on disk the daemons published (disk_room.h), read again before each member; unset
  // or a member missing from it: that member's room is unknown and it is defragmented as before.
  std::function<std::map<std::uint64_t, DiskRoom>()> disk_rooms;
};

// Receives the run's progress, one human-readable line at a time.
using Say = std::function<void(const std::string& line)>;

// The operators' runbook, step by step: run() reads like it. Each step either lets the run go on
// or stops it with an outcome; the report says what each did.
class Runner {
 public:
  Runner(etcd::ClusterClient& client, Clock& clock, rule::Rule rule, RunOptions options, Say say);

  RunReport run(const std::vector<std::string>& seed_endpoints);

 private:
  struct Context;  // one run's state: endpoints, view, plan and the report being written
  // Why a step ended the run early.
  struct Stop {
    Outcome outcome = Outcome::kAborted;
    std::string reason;
  };
  using Next = std::optional<Stop>;  // nullopt: go on to the next step

  // The steps, in the runbook's order (runner.cpp, run_members.cpp, run_after.cpp).
  Next discover(Context& ctx, const std::vector<std::string>& seed_endpoints);
  Next gate(Context& ctx);
  void plan(Context& ctx);
  void show_dry_run(Context& ctx);
  Next compact(Context& ctx);
  Next defragment_members(Context& ctx);
  void disarm_nospace(Context& ctx);
  void check_consistency(Context& ctx);
  RunReport finish(Context& ctx, Outcome outcome);
  RunReport finish(Context& ctx, const Stop& stop);

  // Inside the steps.
  Next defragment_member(Context& ctx, std::size_t index, const etcd::MemberStatus& now);
  Next skip_by_rule(Context& ctx, std::size_t index, const RuleVerdict& verdict);
  bool skip_for_room(Context& ctx, std::size_t index, const etcd::MemberStatus& now);
  Status defragment_call(Context& ctx, std::size_t index, const etcd::MemberStatus& before);
  Next recheck_health(Context& ctx);
  std::vector<HealthCheck> check_health(const std::vector<std::string>& endpoints, bool verbose);
  Result<std::vector<std::string>> health_targets(const std::vector<std::string>& endpoints);
  Status allowed(const char* step);
  Status wait_caught_up(const Context& ctx, const std::string& endpoint,
                        std::chrono::milliseconds timeout);
  void maybe_move_leader(Context& ctx, const PlannedMember& leader);
  bool leader_move_worth_it(const RunReport& report, const etcd::MemberStatus& leader);
  std::optional<std::uint64_t> leader_target(const Context& ctx, const PlannedMember& leader,
                                             const etcd::MemberStatus& leader_status);
  bool disarm_round(Context& ctx, int round, const std::vector<std::string>& members);
  struct HashRound;
  HashRound hash_round(const std::vector<std::string>& targets, std::int64_t revision);
  void report_hashes(Context& ctx, const std::vector<std::string>& targets,
                     const std::vector<etcd::HashKv>& hashes, std::int64_t revision);
  std::uint64_t leader_index(const Context& ctx, const std::string& endpoint);
  std::string endpoint_of(const Context& ctx, std::uint64_t member_id) const;
  Stop stop_after_failure();

  etcd::ClusterClient& client_;
  Clock& clock_;
  rule::Rule rule_;
  RunOptions options_;
  Say say_;
};

}  // namespace edd::defrag
