// One member as the engine sees it at one moment: its status (or why there is none), its name,
// its alarms and its quota with where that quota came from. Plain value, thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "etcd/types.h"

namespace edd::etcd {

enum class QuotaSource { kStatus, kMetrics, kFlag };
std::string quota_source_name(QuotaSource source);  // "status", "metrics", "flag"

struct MemberSnapshot {
  std::string endpoint;
  std::optional<MemberStatus> status;  // empty when the member did not answer
  std::string error;                   // why status is empty
  std::string name;                    // from MemberList; empty if unknown
  std::vector<AlarmType> alarms;       // alarms raised by this member
  std::int64_t quota_bytes = 0;
  QuotaSource quota_source = QuotaSource::kFlag;
  // Free bytes of its data directory as the daemon on its host published them (see
  // defrag/disk_room.h); empty when nobody did. Filled by whoever read them, not by the view.
  std::optional<std::uint64_t> disk_free_bytes;

  std::int64_t db_size_free() const {
    return status ? status->db_size - status->db_size_in_use : 0;
  }
  double quota_usage() const {
    return status && quota_bytes > 0
               ? static_cast<double>(status->db_size) / static_cast<double>(quota_bytes)
               : 0.0;
  }
};

}  // namespace edd::etcd
