// The room on disk of this host's member: the free bytes of its data directory as an
// unprivileged process may use them (statvfs f_bavail x f_frsize, what `df` shows as Avail).
// Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "defrag/disk_room.h"

namespace edd::service {

// An error names the directory and why (it does not exist, permission denied, ...).
Result<defrag::DiskRoom> measure_data_dir(const std::string& data_dir, std::int64_t unix_seconds);

}  // namespace edd::service
