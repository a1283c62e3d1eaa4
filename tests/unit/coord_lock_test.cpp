#include <catch2/catch.hpp>

#include "coord/fallback_actor.h"
#include "coord/lease_lock.h"
#include "fake_lock_client.h"

using edd::ErrorCode;
using edd::coord::fallback_actor;
using edd::coord::LeaseLock;
using edd::coord::LockOptions;
using edd::coord::VoterHealth;
using edd::test::FakeLockClient;

namespace {

const std::vector<std::string> kEndpoints{"e1", "e2", "e3"};

LockOptions options(const std::string& who) {
  LockOptions o;
  o.identity = who;
  return o;
}

}  // namespace

TEST_CASE("coord: the first daemon to campaign owns the lock, the second waits") {
  FakeLockClient etcd;
  LeaseLock a(etcd, options("host-a"));
  LeaseLock b(etcd, options("host-b"));
  REQUIRE(a.campaign(kEndpoints));
  REQUIRE(b.campaign(kEndpoints));
  CHECK(*a.owns(kEndpoints));
  CHECK_FALSE(*b.owns(kEndpoints));
  CHECK(**b.holder(kEndpoints) == "host-a");
  CHECK(a.key() == "/etcd-defragd/lock/" + std::string("1000"));
}

TEST_CASE("coord: campaigning again is cheap and keeps the same key") {
  FakeLockClient etcd;
  LeaseLock a(etcd, options("host-a"));
  REQUIRE(a.campaign(kEndpoints));
  const std::string key = a.key();
  REQUIRE(a.campaign(kEndpoints));
  CHECK(a.key() == key);
  CHECK(*a.owns(kEndpoints));
}

TEST_CASE("coord: when the owner releases, the next oldest key owns at once") {
  FakeLockClient etcd;
  LeaseLock a(etcd, options("host-a"));
  LeaseLock b(etcd, options("host-b"));
  REQUIRE(a.campaign(kEndpoints));
  REQUIRE(b.campaign(kEndpoints));
  a.release(kEndpoints);
  CHECK(*b.owns(kEndpoints));
  CHECK_FALSE(*a.owns(kEndpoints));
}

TEST_CASE("coord: an expired lease loses the lock and the next campaign takes a new one") {
  FakeLockClient etcd;
  LeaseLock a(etcd, options("host-a"));
  LeaseLock b(etcd, options("host-b"));
  REQUIRE(a.campaign(kEndpoints));
  REQUIRE(b.campaign(kEndpoints));
  etcd.expire(a.lease_id());  // e.g. the daemon was frozen longer than the TTL
  auto kept = a.keep_alive(kEndpoints, "");
  REQUIRE_FALSE(kept);
  CHECK(kept.error().code == ErrorCode::kNotFound);
  CHECK(a.lease_id() == 0);
  CHECK(*b.owns(kEndpoints));
  REQUIRE(a.campaign(kEndpoints));
  CHECK_FALSE(*a.owns(kEndpoints));  // now behind b
}

TEST_CASE("coord: under NOSPACE a lock taken before survives, and nobody new can campaign") {
  FakeLockClient etcd;
  LeaseLock a(etcd, options("host-a"));
  LeaseLock b(etcd, options("host-b"));
  REQUIRE(a.campaign(kEndpoints));
  etcd.set_nospace(true);
  auto refused = b.campaign(kEndpoints);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kNoSpace);
  CHECK(a.keep_alive(kEndpoints, ""));
  CHECK(a.campaign(kEndpoints));  // the key exists: nothing to write
  CHECK(*a.owns(kEndpoints));
}

TEST_CASE("coord: keep-alives never go to the member being defragmented") {
  FakeLockClient etcd;
  LeaseLock a(etcd, options("host-a"));
  REQUIRE(a.campaign(kEndpoints));
  REQUIRE(a.keep_alive(kEndpoints, "e1"));
  const auto calls = etcd.calls();
  CHECK(calls.back() == "keepalive e2");
}

TEST_CASE("coord: an unreachable member is skipped for the next one") {
  FakeLockClient etcd;
  etcd.set_down("e1", true);
  LeaseLock a(etcd, options("host-a"));
  REQUIRE(a.campaign(kEndpoints));
  CHECK(*a.owns(kEndpoints));
}

TEST_CASE("coord: without any endpoint the lock says so") {
  FakeLockClient etcd;
  LeaseLock a(etcd, options("host-a"));
  auto r = a.campaign({});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
}

TEST_CASE("coord: the fallback actor is the lowest healthy voter") {
  CHECK(fallback_actor({{30, true, false}, {10, true, false}, {20, true, false}}) == 10u);
  CHECK(fallback_actor({{30, true, false}, {10, false, false}, {20, true, false}}) == 20u);
  CHECK(fallback_actor({{30, true, false}, {5, true, true}, {20, true, false}}) == 20u);
  CHECK_FALSE(fallback_actor({{30, false, false}}).has_value());
  CHECK_FALSE(fallback_actor({}).has_value());
}
