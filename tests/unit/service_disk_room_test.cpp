// Room on disk through the loop: each daemon publishes its member's free bytes on its own lease,
// beside the lock and never in it, and the actor's run skips a member whose host lacks the room.
#include <catch2/catch.hpp>

#include <algorithm>

#include "defrag/disk_room.h"
#include "fake_cluster.h"
#include "fake_lock_client.h"
#include "service/daemon_loop.h"

using namespace edd;
using namespace edd::service;
using Catch::Matchers::Contains;
using edd::test::FakeCluster;
using edd::test::FakeLockClient;
using edd::test::kEtcd1;
using edd::test::kEtcd2;
using edd::test::kEtcd3;
using edd::test::three_members;

namespace {

const std::string kLockPrefix = "/etcd-defragd/lock";
const std::vector<std::string> kEndpoints{kEtcd1, kEtcd2, kEtcd3};

class Quiet final : public LoopObserver {
 public:
  void on_poll(const PollView&, std::chrono::nanoseconds) override {}
  void on_run(Trigger, const defrag::RunReport& r) override { reports.push_back(r); }
  void on_lock(bool) override {}
  void say(const std::string& line) override { lines.push_back(line); }
  std::vector<defrag::RunReport> reports;
  std::vector<std::string> lines;
};

// One daemon on the host of `local`, whose data directory has `free_bytes` free.
struct RoomDaemon {
  RoomDaemon(FakeCluster& cluster, FakeLockClient& store, const std::string& local,
             std::uint64_t free_bytes)
      : lock(store, lock_options(local)), free(free_bytes) {
    LoopSettings s;
    s.seeds = kEndpoints;
    s.local_endpoint = local;
    s.identity = local;
    s.rule = *rule::Rule::parse("dbSize < 0");  // never: runs only when asked
    s.run.catch_up_timeout = std::chrono::seconds(5);
    s.disk_room_prefix = defrag::disk_room_prefix(kLockPrefix);
    LoopHooks hooks;
    hooks.measure_disk_room = [this, local]() -> std::optional<defrag::DiskRoom> {
      return defrag::DiskRoom{free, 1'700'000'000, "host-of-" + local, "/var/lib/etcd"};
    };
    loop = std::make_unique<DaemonLoop>(cluster, store, lock, clock, hooks, s, observer);
  }
  static coord::LockOptions lock_options(const std::string& who) {
    coord::LockOptions o;
    o.prefix = kLockPrefix;
    o.identity = who;
    return o;
  }
  coord::LeaseLock lock;
  ManualClock clock;
  Quiet observer;
  std::uint64_t free;
  std::unique_ptr<DaemonLoop> loop;
};

}  // namespace

TEST_CASE("room: published keys never take part in the lock, for this version or an older one") {
  FakeLockClient store;
  // Room values written before anyone campaigns have the oldest create revisions of all.
  auto lease = store.lease_grant(kEtcd3, std::chrono::seconds(60));
  REQUIRE(lease);
  const std::string prefix = defrag::disk_room_prefix(kLockPrefix);
  for (std::uint64_t id : {1, 2, 3}) {
    REQUIRE(defrag::publish_disk_room(store, kEndpoints, prefix, id,
                                      defrag::DiskRoom{id, 0, "h", "/d"}, *lease));
  }
  coord::LeaseLock a(store, RoomDaemon::lock_options("host-a"));
  coord::LeaseLock b(store, RoomDaemon::lock_options("host-b"));
  REQUIRE(a.campaign(kEndpoints));
  REQUIRE(b.campaign(kEndpoints));
  CHECK(*a.owns(kEndpoints));
  CHECK_FALSE(*b.owns(kEndpoints));
  CHECK(**b.holder(kEndpoints) == "host-a");
  // Every daemon version lists exactly prefix + "/" (coord/lease_lock.cpp since the first one).
  auto listed = store.list_prefix(kEtcd1, kLockPrefix + "/", 0);
  REQUIRE(listed);
  CHECK(listed->size() == 2);
  for (const auto& kv : *listed) CHECK_FALSE(kv.key.starts_with(prefix));
  CHECK(defrag::read_disk_rooms(store, kEndpoints, prefix).size() == 3);
}

TEST_CASE("room: each daemon publishes on its own lease, and it stays under NOSPACE") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  RoomDaemon d2(cluster, store, kEtcd2, 5'000'000);
  d2.loop->step();
  const std::string key = defrag::disk_room_key(defrag::disk_room_prefix(kLockPrefix), 2);
  auto kv = store.get(kEtcd1, key);
  REQUIRE(kv);
  REQUIRE(kv->has_value());
  CHECK((*kv)->lease == d2.lock.lease_id());
  CHECK(defrag::decode_disk_room((*kv)->value)->free_bytes == 5'000'000);
  CHECK(d2.loop->last_view().local_disk_room->free_bytes == 5'000'000);

  // Refreshed each poll; under NOSPACE the put fails and the old value stays readable.
  d2.free = 4'000'000;
  d2.loop->step();
  store.set_nospace(true);
  d2.free = 3'000'000;
  d2.loop->step();
  const auto rooms = defrag::read_disk_rooms(store, kEndpoints, defrag::kDefaultDiskRoomPrefix);
  REQUIRE(rooms.count(2) == 1);
  CHECK(rooms.at(2).free_bytes == 4'000'000);
  CHECK(std::count_if(d2.observer.lines.begin(), d2.observer.lines.end(), [](const auto& l) {
          return l.starts_with("disk room: publishing our member's free bytes failed");
        }) == 1);

  // The lease goes, the value goes with it: a dead daemon's room is unknown, not stale.
  store.set_nospace(false);
  d2.loop->release_lock();
  CHECK(defrag::read_disk_rooms(store, kEndpoints, defrag::kDefaultDiskRoomPrefix).empty());
}

TEST_CASE("room: the actor skips the member whose host published too little room") {
  FakeCluster cluster(three_members(), 1);
  FakeLockClient store;
  RoomDaemon d1(cluster, store, kEtcd1, 10'000'000'000);
  RoomDaemon d2(cluster, store, kEtcd2, 1'000'000);  // 40 MB in use needs 115 MB
  d1.loop->step();                                   // campaigns first: the actor
  d2.loop->step();                                   // publishes its room
  CHECK(d1.loop->last_view().disk_rooms.size() == 1);
  d1.loop->request_run(Trigger::kManual, /*bypass_rule=*/true);
  const StepResult r = d1.loop->step();
  REQUIRE(r.report);
  CHECK(cluster.events_starting_with("defragment") ==
        std::vector<std::string>{"defragment etcd-3:2379", "defragment etcd-1:2379"});
  const auto& m2 = *std::find_if(r.report->members.begin(), r.report->members.end(),
                                 [](const auto& m) { return m.endpoint == kEtcd2; });
  CHECK(m2.no_room);
  CHECK_THAT(m2.message, Contains("on host host-of-etcd-2:2379 (/var/lib/etcd) has 1.0 MB"));
  CHECK(std::any_of(d1.observer.lines.begin(), d1.observer.lines.end(), [](const auto& l) {
    return l.starts_with("Note: room on disk of member etcd-3 (3) is unknown");
  }));
}
