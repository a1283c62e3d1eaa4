// The reclaim floor: the least a defrag must give back to be worth the stall it causes, as bytes
// or as a share of the member's quota. Parsed from the config's policy.min_reclaim and the CLI's
// --min-reclaim ("64MiB", "50MB", "2%", a plain byte count). Plain value, pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace edd::policy {

struct ReclaimFloor {
  std::int64_t bytes = 0;  // a fixed floor
  double quota_ratio = 0;  // or a share of the member's quota, in [0, 1)
  // The floor for a member with this quota: the larger of the two (0 when neither is set).
  std::int64_t bytes_for(std::int64_t quota_bytes) const;
  bool is_zero() const { return bytes == 0 && quota_ratio == 0; }
};

// "64MiB", "64 MiB", "50MB", "512kB", "1GiB", "1048576", "0", or a share of the quota "2%"
// (up to 50%). The error says what is expected; the caller names the key or flag.
Result<ReclaimFloor> parse_reclaim_floor(std::string_view text);

// As the config would spell it: "2%", "64MiB"-style sizes come back as exact bytes ("67108864 B"
// would be unreadable, so SI like etcdctl: "67 MB").
std::string to_string(const ReclaimFloor& floor);

}  // namespace edd::policy
