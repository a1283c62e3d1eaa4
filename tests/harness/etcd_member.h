// One etcd member as the tests run it: its command line and what its zap log says about
// defrags. Shared by EtcdCluster (members on loopback ports) and the fault tests'
// network-namespace cluster (one address per member), which differ only in their addresses and
// in how the process is started.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edd::test {

struct DefragEvent {
  int member;
  std::string msg;  // "starting defragment" or "finished defragment"
  double ts;        // seconds since the epoch, millisecond resolution (etcd's log)
};

// etcd 3.4's zap log timestamps ("2026-11-21T19:12:06.802Z", or a "+hhmm" offset) in seconds
// since the epoch. Throws std::runtime_error on anything else.
double parse_zap_ts(const std::string& ts);

struct MemberFlags {
  std::string etcd;  // the binary
  std::string name;
  std::string data_dir;
  std::string log_path;         // its zap JSON log
  std::string client_url;       // listened on and advertised
  std::string peer_url;         // listened on and advertised
  std::string initial_cluster;  // "name=peer_url,..." of every member
  std::string cluster_token;
  std::string cluster_state;             // "new", or "existing" to rejoin from its WAL
  std::string metrics_url;               // "" = /metrics only on the client URL
  std::int64_t quota_backend_bytes = 0;  // 0 = etcd's default (2 GiB)
};

// The member's argv: the flags above, a zap log, and short raft timings (100 ms heartbeats, 1 s
// elections) so that a test's leader change takes a second, not ten.
std::vector<std::string> etcd_member_argv(const MemberFlags& flags);

// The "starting defragment" / "finished defragment" lines of the members' logs (log_paths[i] is
// member i's), in time order; on equal timestamps "finished" first, so 1 ms of resolution never
// invents an overlap. A line still being written is skipped.
std::vector<DefragEvent> defrag_events_in_logs(const std::vector<std::string>& log_paths);

}  // namespace edd::test
