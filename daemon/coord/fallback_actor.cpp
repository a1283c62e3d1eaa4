#include "coord/fallback_actor.h"

namespace edd::coord {

std::optional<std::uint64_t> fallback_actor(const std::vector<VoterHealth>& members) {
  std::optional<std::uint64_t> lowest;
  for (const auto& m : members) {
    if (!m.healthy || m.is_learner || m.member_id == 0) continue;
    if (!lowest || m.member_id < *lowest) lowest = m.member_id;
  }
  return lowest;
}

}  // namespace edd::coord
