#include "service/floor_notice.h"

namespace edd::service {

std::string FloorNotice::update(const PollView& view) {
  if (!view.error.empty()) return "";
  std::string held;
  std::string reasons;
  for (std::size_t i = 0; i < view.members.size() && i < view.floors.size(); ++i) {
    if (!view.floors[i].holds_back) continue;
    held += (held.empty() ? "" : ",") + view.members[i].endpoint;
    reasons += (reasons.empty() ? "" : "; ") + view.floors[i].reason;
  }
  if (held == held_) return "";
  const bool was_held = !held_.empty();
  held_ = held;
  if (held.empty()) {
    return was_held ? "reclaim floor: no member is held back any more" : "";
  }
  // The figures are those of the poll that started it; the metrics follow them from there.
  return "reclaim floor: the rule fires but not defragmenting: " + reasons +
         ". If the database is near its quota, its data fills it: delete data or raise the quota "
         "(etcd --quota-backend-bytes); policy.min_reclaim sets the floor";
}

}  // namespace edd::service
