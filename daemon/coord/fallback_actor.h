// Who acts when nobody holds the lock and etcd refuses writes (NOSPACE): a choice that needs no
// write. The daemon whose local member has the lowest ID among the healthy voting members acts;
// it re-checks that before every step. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace edd::coord {

struct VoterHealth {
  std::uint64_t member_id = 0;
  bool healthy = false;
  bool is_learner = false;
};

// The member that should act, or nullopt when no member is healthy.
std::optional<std::uint64_t> fallback_actor(const std::vector<VoterHealth>& members);

}  // namespace edd::coord
