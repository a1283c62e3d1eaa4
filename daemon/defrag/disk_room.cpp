#include "defrag/disk_room.h"

#include <charconv>
#include <sstream>

#include "common/bytes.h"
#include "etcd/types.h"

namespace edd::defrag {

namespace {

std::optional<std::uint64_t> parse_unsigned(const std::string& s, int base) {
  std::uint64_t v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v, base);
  if (s.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

std::string size_text(std::uint64_t bytes) {
  return format_bytes_si(static_cast<std::int64_t>(bytes)) + " (" + std::to_string(bytes) +
         " bytes)";
}

}  // namespace

std::string disk_room_prefix(const std::string& lock_prefix) {
  const auto slash = lock_prefix.rfind('/');
  if (slash != std::string::npos && slash != 0) {
    std::string sibling = lock_prefix.substr(0, slash) + "/disk-room/";
    if (!sibling.starts_with(lock_prefix + "/")) return sibling;
  }
  // '-' sorts before '/', and the lock lists exactly prefix + "/": outside its range.
  return lock_prefix + "-disk-room/";
}

std::string disk_room_key(const std::string& room_prefix, std::uint64_t member_id) {
  return room_prefix + etcd::member_id_hex(member_id);
}

std::string encode_disk_room(const DiskRoom& room) {
  return "free_bytes=" + std::to_string(room.free_bytes) +
         "\nunix_seconds=" + std::to_string(room.unix_seconds) + "\nhost=" + room.host +
         "\ndata_dir=" + room.data_dir + "\n";
}

std::optional<DiskRoom> decode_disk_room(const std::string& text) {
  DiskRoom room;
  bool has_free = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    if (key == "free_bytes") {
      auto v = parse_unsigned(value, 10);
      if (!v) return std::nullopt;
      room.free_bytes = *v;
      has_free = true;
    } else if (key == "unix_seconds") {
      auto v = parse_unsigned(value, 10);
      if (v) room.unix_seconds = static_cast<std::int64_t>(*v);
    } else if (key == "host") {
      room.host = value;
    } else if (key == "data_dir") {
      room.data_dir = value;
    }
  }
  if (!has_free) return std::nullopt;
  return room;
}

std::uint64_t disk_room_needed(std::int64_t db_size_in_use) {
  const auto in_use = static_cast<std::uint64_t>(db_size_in_use > 0 ? db_size_in_use : 0);
  return in_use + (in_use + 4) / 5 + kDiskRoomMarginBytes;  // × 1.2, rounded up
}

RoomVerdict check_disk_room(const std::string& member, std::int64_t db_size_in_use,
                            const std::optional<DiskRoom>& room) {
  RoomVerdict v;
  v.need_bytes = disk_room_needed(db_size_in_use);
  if (!room) {
    v.kind = RoomVerdict::Kind::kUnknown;
    v.reason = "room on disk of member " + member +
               " is unknown (no etcd-defragd on its host published it): defragmenting "
               "without checking it";
    return v;
  }
  const std::string where = "member " + member + " on host " +
                            (room->host.empty() ? "?" : room->host) +
                            (room->data_dir.empty() ? "" : " (" + room->data_dir + ")");
  const std::string numbers = "has " + size_text(room->free_bytes) + " free, a defrag needs " +
                              size_text(v.need_bytes) + " (in use " +
                              format_bytes_si(db_size_in_use) + " x 1.2 + " +
                              std::to_string(kDiskRoomMarginBytes >> 20) + " MiB for the WAL)";
  if (room->free_bytes < v.need_bytes) {
    v.kind = RoomVerdict::Kind::kTooLittle;
    v.reason = "no room on disk for a defrag: " + where + " " + numbers;
  } else {
    v.kind = RoomVerdict::Kind::kEnough;
    v.reason = "room on disk: " + where + " " + numbers;
  }
  return v;
}

std::map<std::uint64_t, DiskRoom> read_disk_rooms(etcd::LockClient& store,
                                                  const std::vector<std::string>& endpoints,
                                                  const std::string& room_prefix) {
  std::map<std::uint64_t, DiskRoom> out;
  for (const auto& ep : endpoints) {
    auto kvs = store.list_prefix(ep, room_prefix, 0);
    if (!kvs) continue;
    for (const auto& kv : *kvs) {
      auto id = parse_unsigned(kv.key.substr(room_prefix.size()), 16);
      auto room = decode_disk_room(kv.value);
      if (id && *id != 0 && room) out[*id] = std::move(*room);
    }
    break;
  }
  return out;
}

void attach_disk_rooms(std::vector<etcd::MemberSnapshot>& view,
                       const std::map<std::uint64_t, DiskRoom>& rooms) {
  for (auto& m : view) {
    if (!m.status) continue;
    if (auto it = rooms.find(m.status->member_id); it != rooms.end()) {
      m.disk_free_bytes = it->second.free_bytes;
    }
  }
}

Status publish_disk_room(etcd::LockClient& store, const std::vector<std::string>& endpoints,
                         const std::string& room_prefix, std::uint64_t member_id,
                         const DiskRoom& room, std::int64_t lease_id) {
  Status last = make_error(ErrorCode::kUnavailable, "no endpoint to reach etcd");
  const std::string key = disk_room_key(room_prefix, member_id);
  const std::string value = encode_disk_room(room);
  for (const auto& ep : endpoints) {
    last = store.put_leased(ep, key, value, lease_id);
    // NOSPACE and a lost lease are the cluster's answer: another member would say the same.
    if (last || (last.error().code != ErrorCode::kUnavailable &&
                 last.error().code != ErrorCode::kDeadlineExceeded)) {
      return last;
    }
  }
  return last;
}

}  // namespace edd::defrag
