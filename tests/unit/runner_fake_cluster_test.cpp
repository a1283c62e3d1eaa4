// The FakeCluster itself behaves like the etcd it stands for, so tests of the engine can trust
// it: scripted failures in order, learners that answer only Status, leadership that moves only
// from the leader, and member ID 0 clearing every member's alarm, as etcd does.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "fake_cluster.h"

using Catch::Matchers::Contains;
using edd::ErrorCode;
using edd::make_error;
using edd::etcd::Alarm;
using edd::etcd::AlarmType;
using edd::test::FakeCluster;
using edd::test::FakeMember;
using edd::test::kEtcd1;
using edd::test::kEtcd2;
using edd::test::kEtcd3;
using edd::test::three_members;
using std::chrono::seconds;

TEST_CASE("the fake fails the next calls it was told to, then behaves") {
  FakeCluster fake(three_members(), 1);
  fake.fail_next("health", kEtcd2, make_error(ErrorCode::kDeadlineExceeded, "slow"), 2);
  CHECK_FALSE(fake.health(kEtcd2).has_value());
  CHECK_FALSE(fake.health(kEtcd2).has_value());
  CHECK(fake.health(kEtcd2).has_value());
  CHECK(fake.health(kEtcd3).has_value());
  CHECK(fake.calls("health", kEtcd2) == 3);
}

TEST_CASE("the fake makes a member unreachable after a number of calls, until healed") {
  FakeCluster fake(three_members(), 1);
  fake.unreachable_after(kEtcd2, 2);
  CHECK(fake.status(kEtcd2).has_value());
  CHECK(fake.health(kEtcd2).has_value());
  const auto st = fake.status(kEtcd2);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(st.error().message, Contains(kEtcd2));
  CHECK_FALSE(fake.defragment(kEtcd2, seconds(30)).has_value());
  CHECK(fake.events() == std::vector<std::string>{"defragment etcd-2:2379 failed"});
  fake.heal(kEtcd2);
  CHECK(fake.status(kEtcd2).has_value());
}

TEST_CASE("the fake shrinks a member's file when it is defragmented") {
  auto members = three_members();
  members[1].db_size_after = 55'000'000;
  FakeCluster fake(members, 1);
  REQUIRE(fake.defragment(kEtcd1, seconds(30)).has_value());
  REQUIRE(fake.defragment(kEtcd2, seconds(30)).has_value());
  CHECK(fake.status(kEtcd1)->db_size == 40'000'000);
  CHECK(fake.status(kEtcd2)->db_size == 55'000'000);
  CHECK(fake.status(kEtcd3)->db_size == 100'000'000);
  CHECK(fake.last_defrag_timeout(kEtcd2) == seconds(30));
}

TEST_CASE("the fake's learner answers Status and nothing else") {
  auto members = three_members();
  members[2].is_learner = true;
  FakeCluster fake(members, 1);
  CHECK(fake.status(kEtcd3)->is_learner);
  const auto h = fake.health(kEtcd3);
  REQUIRE_FALSE(h.has_value());
  CHECK_THAT(h.error().message, Contains("not supported for learner"));
  CHECK_FALSE(fake.compact(kEtcd3, 42, true).has_value());
  CHECK_FALSE(fake.defragment(kEtcd3, seconds(30)).has_value());
  CHECK(fake.member_list(kEtcd1)->at(2).is_learner);
}

TEST_CASE("the fake moves leadership only when asked through the leader") {
  FakeCluster fake(three_members(), 1);
  CHECK_FALSE(fake.move_leader(kEtcd2, 3).has_value());
  CHECK(fake.leader_id() == 1);
  REQUIRE(fake.move_leader(kEtcd1, 3).has_value());
  CHECK(fake.leader_id() == 3);
  CHECK(fake.status(kEtcd1)->leader_id == 3);
  CHECK(fake.status(kEtcd3)->is_leader());
  CHECK(fake.events() == std::vector<std::string>{"move_leader etcd-2:2379 -> 3 failed",
                                                  "move_leader etcd-1:2379 -> 3"});
}

TEST_CASE("the fake disarms one member's alarm, or every member's with ID 0 as etcd does") {
  FakeCluster fake(three_members(), 1);
  fake.raise_alarm(1, AlarmType::kNoSpace);
  fake.raise_alarm(2, AlarmType::kNoSpace);
  fake.raise_alarm(3, AlarmType::kCorrupt);
  CHECK(fake.status(kEtcd2)->errors == std::vector<std::string>{"memberID:2 alarm:NOSPACE"});
  REQUIRE(fake.disarm(kEtcd1, Alarm{2, AlarmType::kNoSpace}).has_value());
  CHECK(fake.active_alarms().size() == 2);
  REQUIRE(fake.disarm(kEtcd1, Alarm{0, AlarmType::kNoSpace}).has_value());
  REQUIRE(fake.active_alarms().size() == 1);
  CHECK(fake.active_alarms()[0].type == AlarmType::kCorrupt);
  CHECK(fake.events() == std::vector<std::string>{"disarm 2 NOSPACE", "disarm 0 NOSPACE"});
}

TEST_CASE("the fake's member catches up one entry per Status after its defrag") {
  auto members = three_members();
  members[1].lag_after_defrag = 2;
  FakeCluster fake(members, 1);
  REQUIRE(fake.defragment(kEtcd2, seconds(30)).has_value());
  const auto first = fake.status(kEtcd2);
  CHECK(first->raft_applied_index + 2 == first->raft_index);
  CHECK(fake.status(kEtcd2)->raft_applied_index + 1 == first->raft_index);
  CHECK(fake.status(kEtcd2)->raft_applied_index == first->raft_index);
}

TEST_CASE("the fake runs a hook once, after the call it waits for") {
  FakeCluster fake(three_members(), 1);
  int runs = 0;
  fake.after_next("defragment", kEtcd2, [&] {
    ++runs;
    fake.set_leader(2);  // a hook may script the fake
  });
  REQUIRE(fake.defragment(kEtcd1, seconds(30)).has_value());
  CHECK(runs == 0);
  REQUIRE(fake.defragment(kEtcd2, seconds(30)).has_value());
  REQUIRE(fake.defragment(kEtcd2, seconds(30)).has_value());
  CHECK(runs == 1);
  CHECK(fake.leader_id() == 2);
}

TEST_CASE("the fake lists every member with its client URLs, none for one not started") {
  auto members = three_members();
  members[0].more_endpoints = {"10.0.0.1:2379"};
  FakeMember joining = edd::test::fake_member("etcd-4:2379", 4, "etcd-4");
  joining.started = false;
  members.push_back(joining);
  FakeCluster fake(members, 1);
  const auto list = fake.member_list(kEtcd2);
  REQUIRE(list.has_value());
  REQUIRE(list->size() == 4);
  CHECK(list->at(0).client_urls == std::vector<std::string>{kEtcd1, "10.0.0.1:2379"});
  CHECK(list->at(0).name == "etcd-1");
  CHECK(list->at(3).client_urls.empty());
  CHECK(list->at(3).name.empty());
  CHECK(fake.status("10.0.0.1:2379")->member_id == 1);
}
