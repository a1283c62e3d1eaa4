// Room on disk: a member whose host has less free disk than in use x 1.2 + the margin is skipped
// with a reason; the others are defragmented in the usual order, the leader last.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "defrag/disk_room.h"
#include "defrag/runner.h"
#include "fake_cluster.h"
#include "runner_test_support.h"

using Catch::Matchers::Contains;
using edd::defrag::DiskRoom;
using edd::defrag::MemberResult;
using edd::defrag::Outcome;
using edd::test::FakeCluster;
using edd::test::kEtcd1;
using edd::test::kEtcd2;
using edd::test::kEtcd3;
using edd::test::report_of;
using edd::test::TestRun;
using edd::test::three_members;
using Events = std::vector<std::string>;

namespace {

// The fake's members have 40 MB in use: a defrag needs 48 MB + 64 MiB = 115108864 bytes free.
constexpr std::uint64_t kNeed = 115'108'864;

DiskRoom room(std::uint64_t free_bytes, const std::string& host) {
  return DiskRoom{free_bytes, 1'700'000'000, host, "/var/lib/etcd"};
}

}  // namespace

TEST_CASE("a follower whose host lacks room on disk is skipped and the others go on, leader last") {
  FakeCluster fake(three_members(), /*leader_id=*/1);
  TestRun t(fake);
  int reads = 0;
  t.options.disk_rooms = [&reads] {
    ++reads;
    return std::map<std::uint64_t, DiskRoom>{{1, room(10'000'000'000, "host-1")},
                                             {2, room(kNeed - 1, "host-2")},
                                             {3, room(kNeed, "host-3")}};
  };
  const auto report = t.run();

  CHECK(fake.events() ==
        Events{"compact etcd-2:2379 rev=42", "defragment etcd-3:2379", "defragment etcd-1:2379"});
  CHECK(report.outcome == Outcome::kSuccess);
  const auto& skipped = report_of(report, kEtcd2);
  CHECK(skipped.result == MemberResult::kSkipped);
  CHECK(skipped.no_room);
  CHECK_THAT(skipped.message, Contains("member etcd-2 (2) on host host-2 (/var/lib/etcd)"));
  CHECK_THAT(skipped.message, Contains("115108863 bytes) free"));
  CHECK_THAT(skipped.message, Contains("needs 115 MB (115108864 bytes)"));
  CHECK(report_of(report, kEtcd3).result == MemberResult::kDefragmented);
  CHECK_FALSE(report_of(report, kEtcd3).no_room);
  CHECK(report_of(report, kEtcd1).result == MemberResult::kDefragmented);
  CHECK(report.members.back().endpoint == kEtcd1);
  CHECK(reads == 3);  // read again before each member: a daemon may have published since
  const auto line = std::count_if(t.said.begin(), t.said.end(), [](const std::string& s) {
    return s.starts_with("Skipping endpoint \"etcd-2:2379\": no room on disk for a defrag");
  });
  CHECK(line == 1);
}

TEST_CASE("a leader whose host lacks room on disk is skipped after the followers") {
  FakeCluster fake(three_members(), /*leader_id=*/1);
  TestRun t(fake);
  t.options.disk_rooms = [] { return std::map<std::uint64_t, DiskRoom>{{1, room(0, "host-1")}}; };
  const auto report = t.run();

  CHECK(fake.events() ==
        Events{"compact etcd-2:2379 rev=42", "defragment etcd-2:2379", "defragment etcd-3:2379"});
  CHECK(report_of(report, kEtcd1).no_room);
  CHECK(report.exit_code() == 0);
}

TEST_CASE("a member whose room is unknown is defragmented as before, with a note") {
  FakeCluster fake(three_members(), /*leader_id=*/1);
  TestRun t(fake);
  t.options.disk_rooms = [] { return std::map<std::uint64_t, DiskRoom>{}; };
  const auto report = t.run();

  CHECK(fake.events().size() == 4);
  for (const auto& m : report.members) CHECK(m.result == MemberResult::kDefragmented);
  const auto notes = std::count_if(t.said.begin(), t.said.end(), [](const std::string& s) {
    return s.starts_with("Note: room on disk of member ") && s.find("is unknown") != s.npos;
  });
  CHECK(notes == 3);
}
