#include "defrag/run_context.h"

namespace edd::defrag {

std::string describe(const etcd::MemberStatus& s) {
  return "endpoint: " + s.endpoint + ", dbSize: " + std::to_string(s.db_size) +
         ", dbSizeInUse: " + std::to_string(s.db_size_in_use) +
         ", memberId: " + etcd::member_id_hex(s.member_id) +
         ", leader: " + etcd::member_id_hex(s.leader_id) +
         ", revision: " + std::to_string(s.revision) + ", term: " + std::to_string(s.raft_term) +
         ", index: " + std::to_string(s.raft_index);
}

const etcd::MemberSnapshot* find_member(const std::vector<etcd::MemberSnapshot>& view,
                                        std::uint64_t member_id) {
  for (const auto& m : view) {
    if (m.status && m.status->member_id == member_id) return &m;
  }
  return nullptr;
}

std::optional<AlarmList> read_alarms(etcd::ClusterClient& client,
                                     const std::vector<etcd::MemberSnapshot>& view) {
  for (const auto& m : view) {
    if (!m.status) continue;
    if (auto a = client.alarms(m.endpoint)) return AlarmList{m.endpoint, std::move(*a)};
  }
  return std::nullopt;
}

}  // namespace edd::defrag
