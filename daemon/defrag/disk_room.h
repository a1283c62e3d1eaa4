// Room on disk for a defrag: etcd writes the new database file (about the in-use size) beside
// the old one, on the filesystem that also holds its WAL. Each daemon publishes the free bytes of
// its own member's data directory in etcd; the run reads them and skips a member whose host
// lacks the room. Pure decisions plus two calls through the LockClient interface. Thread-safe
// (no state).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etcd/lock_client.h"
#include "etcd/member_snapshot.h"

namespace edd::defrag {

// A defrag copies the live pages into a new file; bbolt's page rounding and the freelist make it
// a little larger than dbSizeInUse, hence × 1.2. The margin keeps room for etcd's WAL, which
// preallocates 64 MB segments on the same filesystem while the defrag runs: a defrag that
// leaves less than one segment free can make the next WAL cut fail and stop the member.
inline constexpr std::uint64_t kDiskRoomMarginBytes = 64ULL * 1024 * 1024;

// What one daemon measured on its own host (statvfs f_bavail × f_frsize of its member's data
// directory).
struct DiskRoom {
  std::uint64_t free_bytes = 0;
  std::int64_t unix_seconds = 0;  // when it was measured
  std::string host;               // the hostname, for the operator
  std::string data_dir;
};

// The key prefix the daemons publish under. The lease lock lists prefix + "/" and its oldest key
// owns the lock, so these keys must never fall in that range (for this version or an older
// daemon in a rolling upgrade): they go beside the lock, "<parent>/disk-room/", or
// "<prefix>-disk-room/" when the prefix has no parent or that would start with "<prefix>/".
std::string disk_room_prefix(const std::string& lock_prefix);
// The prefix for the default lock prefix "/etcd-defragd/lock", where the CLI looks.
inline constexpr const char* kDefaultDiskRoomPrefix = "/etcd-defragd/disk-room/";
// prefix + the member ID in hex, as the member list shows it.
std::string disk_room_key(const std::string& room_prefix, std::uint64_t member_id);

// The value stored: "key=value" lines, free_bytes required; unknown keys are ignored so a newer
// daemon may add some. nullopt for anything else (a value from nobody we know is not trusted).
std::string encode_disk_room(const DiskRoom& room);
std::optional<DiskRoom> decode_disk_room(const std::string& text);

// The bytes a defrag of a member with this much in use needs free: in use × 1.2 + the margin.
std::uint64_t disk_room_needed(std::int64_t db_size_in_use);

struct RoomVerdict {
  enum class Kind { kEnough, kTooLittle, kUnknown };
  Kind kind = Kind::kUnknown;
  std::uint64_t need_bytes = 0;
  std::string reason;  // one line naming the host/member, the free bytes and the need
};
// `member` names the member for the operator (its name and ID, or its endpoint).
RoomVerdict check_disk_room(const std::string& member, std::int64_t db_size_in_use,
                            const std::optional<DiskRoom>& room);

// Every published value by member ID, through the first endpoint that answers; empty when none
// answers or nobody published (the run then treats every member's room as unknown).
std::map<std::uint64_t, DiskRoom> read_disk_rooms(etcd::LockClient& store,
                                                  const std::vector<std::string>& endpoints,
                                                  const std::string& room_prefix);
// Sets each answering member's disk_free_bytes from rooms (by member ID); the others keep none.
void attach_disk_rooms(std::vector<etcd::MemberSnapshot>& view,
                       const std::map<std::uint64_t, DiskRoom>& rooms);
// Puts our member's value on our lease (so it goes when the daemon goes), through the first
// endpoint that takes it. Under NOSPACE the put fails and the value published before stays.
Status publish_disk_room(etcd::LockClient& store, const std::vector<std::string>& endpoints,
                         const std::string& room_prefix, std::uint64_t member_id,
                         const DiskRoom& room, std::int64_t lease_id);

}  // namespace edd::defrag
