// The narrow interface the engine, the CLI and the daemon use to talk to an etcd cluster, one
// call per etcd RPC we need, each aimed at one endpoint. Implementations must be safe to call
// from several threads at once (statuses are fetched in parallel). Failures are values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "etcd/types.h"

namespace edd::etcd {

class ClusterClient {
 public:
  virtual ~ClusterClient() = default;

  // Members as the endpoint's member sees them (Cluster.MemberList).
  virtual Result<std::vector<Member>> member_list(const std::string& endpoint) = 0;
  virtual Result<MemberStatus> status(const std::string& endpoint) = 0;
  // A linearizable read through the endpoint (what `etcdctl endpoint health` does). A permission
  // error still proves the read went through raft, so it counts as healthy.
  virtual Status health(const std::string& endpoint) = 0;
  virtual Result<std::vector<Alarm>> alarms(const std::string& endpoint) = 0;
  // Deactivates one alarm of one member. Never called with member_id 0: etcd would clear every
  // member's alarm of that type.
  virtual Status disarm(const std::string& endpoint, const Alarm& alarm) = 0;
  // Compacts to `revision`; an already-compacted revision is not an error.
  virtual Status compact(const std::string& endpoint, std::int64_t revision, bool physical) = 0;
  virtual Status defragment(const std::string& endpoint, std::chrono::milliseconds timeout) = 0;
  // Must be sent to the current leader.
  virtual Status move_leader(const std::string& leader_endpoint, std::uint64_t target_id) = 0;
  virtual Result<HashKv> hash_kv(const std::string& endpoint, std::int64_t revision) = 0;
};

}  // namespace edd::etcd
