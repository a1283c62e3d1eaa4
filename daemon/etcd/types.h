// Our own view of etcd's data: what the engine, the CLI and the metrics see. Generated protobuf
// types never leave daemon/etcd/. Plain values, thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edd::etcd {

enum class AlarmType { kNone, kNoSpace, kCorrupt, kUnknown };

// "NOSPACE", "CORRUPT", ... as etcdctl prints them.
std::string alarm_name(AlarmType type);

struct Alarm {
  std::uint64_t member_id = 0;
  AlarmType type = AlarmType::kNone;
};

struct Member {
  std::uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

struct MemberStatus {
  std::string endpoint;  // as the user (or MemberList) wrote it
  std::uint64_t cluster_id = 0;
  std::uint64_t member_id = 0;
  std::uint64_t leader_id = 0;
  std::string version;
  std::int64_t db_size = 0;
  std::int64_t db_size_in_use = 0;
  std::int64_t db_size_quota = 0;  // StatusResponse.dbSizeQuota: etcd 3.6+, 0 before
  std::string storage_version;     // etcd 3.6+
  bool downgrade_enabled = false;  // StatusResponse.downgradeInfo: etcd 3.6+
  std::string downgrade_target_version;
  std::uint64_t raft_term = 0;
  std::uint64_t raft_index = 0;
  std::uint64_t raft_applied_index = 0;
  std::int64_t revision = 0;  // the header's store revision
  bool is_learner = false;
  std::vector<std::string> errors;  // StatusResponse.errors, e.g. "memberID:... alarm:NOSPACE"

  bool is_leader() const { return member_id != 0 && member_id == leader_id; }
};

struct HashKv {
  std::uint32_t hash = 0;
  std::int64_t compact_revision = 0;
  std::int64_t revision = 0;  // the header's revision when the hash was taken
};

// Member IDs are printed in hex by etcdctl's member list and status table.
std::string member_id_hex(std::uint64_t id);

// The end of the key range that holds every key starting with prefix (etcd's "prefix end"):
// the prefix with its last byte below 0xff incremented, the rest dropped; "\0" (every key from
// the prefix on) when there is none.
std::string prefix_range_end(const std::string& prefix);

}  // namespace edd::etcd
