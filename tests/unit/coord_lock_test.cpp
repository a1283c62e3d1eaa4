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

// A daemon restarted by systemd (crash, watchdog) has the identity of the process it replaces:
// same host ID, hostname and local member.
LockOptions reclaiming(const std::string& who) {
  LockOptions o = options(who);
  o.reclaim_previous_incarnation = true;
  return o;
}

const std::string kHostA = "cp-1 (127.0.0.1:2379, host aaaaaaaaaaaaaaaa)";
const std::string kHostB = "cp-2 (127.0.0.1:2379, host bbbbbbbbbbbbbbbb)";

TEST_CASE("coord: a restarted daemon revokes its predecessor's lease and owns the lock at once") {
  FakeLockClient etcd;
  std::int64_t old_lease = 0;
  {
    LeaseLock before(etcd, reclaiming(kHostA));
    REQUIRE(before.campaign(kEndpoints));
    REQUIRE(*before.owns(kEndpoints));
    old_lease = before.lease_id();
  }  // killed: no release, its lease lives on in etcd until its TTL
  LeaseLock after(etcd, reclaiming(kHostA));
  REQUIRE(after.campaign(kEndpoints));
  CHECK(*after.owns(kEndpoints));
  CHECK(after.lease_id() != old_lease);
  CHECK(after.take_revoked() == std::vector<std::int64_t>{old_lease});
  CHECK(after.take_revoked().empty());  // said once
  CHECK(*etcd.lease_keep_alive("e1", old_lease) == 0);
}

TEST_CASE("coord: a restarted daemon never revokes another host's lease") {
  FakeLockClient etcd;
  LeaseLock b(etcd, reclaiming(kHostB));
  REQUIRE(b.campaign(kEndpoints));
  LeaseLock a(etcd, reclaiming(kHostA));
  REQUIRE(a.campaign(kEndpoints));
  CHECK_FALSE(*a.owns(kEndpoints));
  CHECK(*b.owns(kEndpoints));
  CHECK(a.take_revoked().empty());
  CHECK(*etcd.lease_keep_alive("e1", b.lease_id()) > 0);
}

TEST_CASE("coord: same hostname and local endpoint on another host is not a predecessor") {
  // Cloned hosts may share a hostname and every daemon may use 127.0.0.1:2379: the host ID
  // alone tells them apart.
  FakeLockClient etcd;
  LeaseLock other(etcd, reclaiming("cp (127.0.0.1:2379, host 1111111111111111)"));
  REQUIRE(other.campaign(kEndpoints));
  LeaseLock me(etcd, reclaiming("cp (127.0.0.1:2379, host 2222222222222222)"));
  REQUIRE(me.campaign(kEndpoints));
  CHECK(*other.owns(kEndpoints));
  CHECK_FALSE(*me.owns(kEndpoints));
}

TEST_CASE("coord: a predecessor queued behind another host is revoked, and that host still owns") {
  FakeLockClient etcd;
  LeaseLock b(etcd, reclaiming(kHostB));
  REQUIRE(b.campaign(kEndpoints));
  std::int64_t old_lease = 0;
  {
    LeaseLock before(etcd, reclaiming(kHostA));
    REQUIRE(before.campaign(kEndpoints));
    old_lease = before.lease_id();
  }
  LeaseLock after(etcd, reclaiming(kHostA));
  REQUIRE(after.campaign(kEndpoints));
  CHECK(after.take_revoked() == std::vector<std::int64_t>{old_lease});
  CHECK(*b.owns(kEndpoints));
  CHECK_FALSE(*after.owns(kEndpoints));
  CHECK(**after.holder(kEndpoints) == kHostB);
}

TEST_CASE("coord: without a host ID a restarted daemon revokes nothing and waits for the TTL") {
  FakeLockClient etcd;
  {
    LeaseLock before(etcd, options(kHostA));
    REQUIRE(before.campaign(kEndpoints));
  }
  LeaseLock after(etcd, options(kHostA));
  REQUIRE(after.campaign(kEndpoints));
  CHECK_FALSE(*after.owns(kEndpoints));
  CHECK(after.take_revoked().empty());
}

TEST_CASE("coord: only a process's first campaign revokes, so two twins cannot flap forever") {
  // Two live daemons with one identity (a misconfiguration): the second to start takes over
  // once; the first, having lost its lease, campaigns again without revoking the second's.
  FakeLockClient etcd;
  LeaseLock first(etcd, reclaiming(kHostA));
  REQUIRE(first.campaign(kEndpoints));
  LeaseLock second(etcd, reclaiming(kHostA));
  REQUIRE(second.campaign(kEndpoints));
  CHECK(*second.owns(kEndpoints));
  REQUIRE_FALSE(first.keep_alive(kEndpoints, ""));
  REQUIRE(first.campaign(kEndpoints));
  CHECK(first.take_revoked().empty());
  CHECK(*second.owns(kEndpoints));
}

TEST_CASE(
    "coord: under NOSPACE the predecessor's lease is still revoked, and nobody holds the lock") {
  // LeaseRevoke works under NOSPACE; LeaseGrant does not. With the stale key gone the
  // no-write fallback actor can act at once instead of after the TTL.
  FakeLockClient etcd;
  {
    LeaseLock before(etcd, reclaiming(kHostA));
    REQUIRE(before.campaign(kEndpoints));
  }
  etcd.set_nospace(true);
  LeaseLock after(etcd, reclaiming(kHostA));
  auto refused = after.campaign(kEndpoints);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kNoSpace);
  CHECK(after.take_revoked().size() == 1);
  CHECK_FALSE(after.holder(kEndpoints)->has_value());
}

TEST_CASE("coord: a predecessor's keys are looked for again when etcd did not answer") {
  FakeLockClient etcd;
  {
    LeaseLock before(etcd, reclaiming(kHostA));
    REQUIRE(before.campaign(kEndpoints));
  }
  for (const auto& ep : kEndpoints) etcd.set_down(ep, true);
  LeaseLock after(etcd, reclaiming(kHostA));
  REQUIRE_FALSE(after.campaign(kEndpoints));
  for (const auto& ep : kEndpoints) etcd.set_down(ep, false);
  REQUIRE(after.campaign(kEndpoints));
  CHECK(after.take_revoked().size() == 1);
  CHECK(*after.owns(kEndpoints));
}

TEST_CASE("coord: release says whether there was a lease to revoke") {
  FakeLockClient etcd;
  LeaseLock a(etcd, options(kHostA));
  CHECK_FALSE(a.release(kEndpoints));
  REQUIRE(a.campaign(kEndpoints));
  CHECK(a.release(kEndpoints));
  CHECK_FALSE(a.release(kEndpoints));
}

TEST_CASE("coord: the fallback actor is the lowest healthy voter") {
  CHECK(fallback_actor({{30, true, false}, {10, true, false}, {20, true, false}}) == 10u);
  CHECK(fallback_actor({{30, true, false}, {10, false, false}, {20, true, false}}) == 20u);
  CHECK(fallback_actor({{30, true, false}, {5, true, true}, {20, true, false}}) == 20u);
  CHECK_FALSE(fallback_actor({{30, false, false}}).has_value());
  CHECK_FALSE(fallback_actor({}).has_value());
}
