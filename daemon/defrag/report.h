// What one run did, member by member: the summary the CLI prints and the daemon turns into
// metrics. Plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "etcd/types.h"

namespace edd::defrag {

enum class MemberResult { kDefragmented, kSkipped, kFailed, kNotReached };
std::string member_result_name(MemberResult r);

struct MemberReport {
  std::string endpoint;
  std::string name;
  std::uint64_t member_id = 0;
  bool was_leader = false;
  MemberResult result = MemberResult::kNotReached;
  std::string message;  // the rule verdict, the error, or why it was skipped
  std::int64_t db_size_before = 0;
  std::int64_t db_size_in_use_before = 0;
  std::int64_t db_size_after = 0;
  std::int64_t db_size_in_use_after = 0;
  std::chrono::milliseconds took{0};  // the Defragment call alone
  bool no_room = false;  // skipped: its host had no room on disk for the new file (disk_room.h)
};

enum class Outcome { kSuccess, kFailed, kAborted, kDryRun };
std::string outcome_name(Outcome o);

struct RunReport {
  Outcome outcome = Outcome::kSuccess;
  std::string abort_reason;  // for kAborted: what stopped the run, naming the member
  std::vector<MemberReport> members;
  std::optional<std::int64_t> compacted_revision;
  std::optional<std::uint64_t> leader_moved_to;
  std::vector<etcd::Alarm> disarmed;
  std::string disarm_note;
  std::optional<bool> hash_consistent;
  std::string hash_note;
  std::chrono::milliseconds total{0};

  std::int64_t reclaimed_bytes() const;
  int exit_code() const {
    return outcome == Outcome::kSuccess || outcome == Outcome::kDryRun ? 0 : 1;
  }
};

}  // namespace edd::defrag
