// What the steps of one run share (the runner's own files only): the state a run builds up step
// by step, and the small helpers several steps use.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/duration.h"
#include "defrag/planner.h"
#include "defrag/report.h"
#include "defrag/runner.h"
#include "etcd/cluster_client.h"
#include "etcd/cluster_view.h"

namespace edd::defrag {

struct Runner::Context {
  Clock::time_point started;
  std::vector<std::string> endpoints;       // what we defragment
  std::vector<std::string> health_targets;  // whose health gates every step
  std::vector<etcd::MemberSnapshot> view;   // as the gate read it
  std::map<std::uint64_t, std::string> endpoint_by_id;
  std::map<std::uint64_t, std::int64_t> quota_by_id;
  bool nospace_at_start = false;
  std::vector<PlannedMember> plan;  // report.members[i] is plan[i]
  bool member_failed = false;       // a defrag or a rule failed (the run goes on unless told not)
  RunReport report;
};

// A status line in etcd-defrag's words, so its users read ours the same way.
std::string describe(const etcd::MemberStatus& s);

inline std::string took(std::chrono::nanoseconds d) { return format_go_duration(d); }

// The member's snapshot in the view, when its status was read; nullptr otherwise.
const etcd::MemberSnapshot* find_member(const std::vector<etcd::MemberSnapshot>& view,
                                        std::uint64_t member_id);

// The cluster's alarm list (cluster-wide, read through raft) and the member that gave it: the
// first member of the view that answered its status and then the list; nullopt if none did.
struct AlarmList {
  std::string via;
  std::vector<etcd::Alarm> alarms;
};
std::optional<AlarmList> read_alarms(etcd::ClusterClient& client,
                                     const std::vector<etcd::MemberSnapshot>& view);

}  // namespace edd::defrag
