// The room-on-disk decision, the published value's format and where the keys go.
#include <catch2/catch.hpp>

#include "defrag/disk_room.h"

using Catch::Matchers::Contains;
using edd::defrag::check_disk_room;
using edd::defrag::decode_disk_room;
using edd::defrag::disk_room_key;
using edd::defrag::disk_room_needed;
using edd::defrag::disk_room_prefix;
using edd::defrag::DiskRoom;
using edd::defrag::encode_disk_room;
using edd::defrag::kDiskRoomMarginBytes;
using Kind = edd::defrag::RoomVerdict::Kind;

TEST_CASE("a defrag needs in use x 1.2 plus a 64 MiB margin") {
  CHECK(kDiskRoomMarginBytes == 67'108'864);
  CHECK(disk_room_needed(0) == kDiskRoomMarginBytes);
  CHECK(disk_room_needed(100'000'000) == 120'000'000 + kDiskRoomMarginBytes);
  CHECK(disk_room_needed(1) == 2 + kDiskRoomMarginBytes);  // rounded up, never under 1.2x
  CHECK(disk_room_needed(-5) == kDiskRoomMarginBytes);
  CHECK(disk_room_needed(8LL << 30) == (8ULL << 30) + (8ULL << 30) / 5 + 1 + kDiskRoomMarginBytes);
}

TEST_CASE(
    "the room verdict: enough at the need, too little one byte under, unknown without a value") {
  const DiskRoom at{disk_room_needed(100'000'000), 0, "cp-2", "/var/lib/etcd"};
  CHECK(check_disk_room("etcd-2 (2)", 100'000'000, at).kind == Kind::kEnough);
  DiskRoom under = at;
  under.free_bytes -= 1;
  const auto v = check_disk_room("etcd-2 (2)", 100'000'000, under);
  CHECK(v.kind == Kind::kTooLittle);
  CHECK(v.need_bytes == 187'108'864);
  CHECK(v.reason ==
        "no room on disk for a defrag: member etcd-2 (2) on host cp-2 (/var/lib/etcd) has 187 MB "
        "(187108863 bytes) free, a defrag needs 187 MB (187108864 bytes) (in use 100 MB x 1.2 + "
        "64 MiB for the WAL)");
  const auto unknown = check_disk_room("etcd-2 (2)", 100'000'000, std::nullopt);
  CHECK(unknown.kind == Kind::kUnknown);
  CHECK_THAT(unknown.reason, Contains("room on disk of member etcd-2 (2) is unknown"));
}

TEST_CASE("a published room reads back, and a value that is not one is ignored") {
  const DiskRoom r{123'456'789, 1'700'000'000, "cp-1", "/var/lib/etcd data"};
  const auto back = decode_disk_room(encode_disk_room(r));
  REQUIRE(back.has_value());
  CHECK(back->free_bytes == r.free_bytes);
  CHECK(back->unix_seconds == r.unix_seconds);
  CHECK(back->host == "cp-1");
  CHECK(back->data_dir == "/var/lib/etcd data");
  // A newer daemon's extra field is ignored; free_bytes alone is enough.
  CHECK(decode_disk_room("free_bytes=5\nfuture=1\n")->free_bytes == 5);
  for (const char* bad : {"", "free_bytes=", "free_bytes=-1", "free_bytes=12x", "free_bytes= 1",
                          "free_bytes=99999999999999999999999", "host=cp-1\n", "garbage"}) {
    CAPTURE(bad);
    CHECK_FALSE(decode_disk_room(bad).has_value());
  }
}

TEST_CASE("the room keys sit beside the lock prefix, never under prefix/") {
  CHECK(disk_room_prefix("/etcd-defragd/lock") == "/etcd-defragd/disk-room/");
  CHECK(disk_room_prefix("/etcd-defragd/lock") == edd::defrag::kDefaultDiskRoomPrefix);
  CHECK(disk_room_prefix("/a/b/lock") == "/a/b/disk-room/");
  // No parent: a sibling named after the prefix.
  CHECK(disk_room_prefix("/lock") == "/lock-disk-room/");
  CHECK(disk_room_prefix("lock") == "lock-disk-room/");
  // A lock prefix that IS the sibling's name must not get its keys under itself.
  CHECK(disk_room_prefix("/x/disk-room") == "/x/disk-room-disk-room/");
  for (const char* lock : {"/etcd-defragd/lock", "/a/b/lock", "/lock", "lock", "/x/disk-room",
                           "/x/disk-roo", "/x/d"}) {
    CAPTURE(lock);
    const std::string key = disk_room_key(disk_room_prefix(lock), 0x8e9e05c52164694dULL);
    CHECK_FALSE(key.starts_with(std::string(lock) + "/"));
  }
  CHECK(disk_room_key("/etcd-defragd/disk-room/", 0x8e9e05c52164694dULL) ==
        "/etcd-defragd/disk-room/8e9e05c52164694d");
}
