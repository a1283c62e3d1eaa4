#include "defrag/report.h"

namespace edd::defrag {

std::string member_result_name(MemberResult r) {
  switch (r) {
    case MemberResult::kDefragmented:
      return "defragmented";
    case MemberResult::kSkipped:
      return "skipped";
    case MemberResult::kFailed:
      return "failed";
    case MemberResult::kNotReached:
      break;
  }
  return "not reached";
}

std::string outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kSuccess:
      return "success";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kAborted:
      return "aborted";
    case Outcome::kDryRun:
      break;
  }
  return "dry-run";
}

std::int64_t RunReport::reclaimed_bytes() const {
  std::int64_t total_bytes = 0;
  for (const auto& m : members) {
    if (m.result == MemberResult::kDefragmented && m.db_size_after < m.db_size_before) {
      total_bytes += m.db_size_before - m.db_size_after;
    }
  }
  return total_bytes;
}

}  // namespace edd::defrag
