// Who acts: etcd's concurrency-mutex pattern. Each daemon holds a key prefix/<lease-id-hex> bound
// to its own lease; the key with the oldest create revision owns the lock. Daemons campaign all
// the time, so a lock taken before a NOSPACE alarm survives it (etcd then refuses LeaseGrant and
// writes, but keep-alives and reads still work). Thread-safe: the keep-alive timer and the worker
// call it concurrently.
//
// A restarted daemon (a crash, a watchdog kill) finds the key of its previous incarnation still
// held by a lease that nobody keeps alive any more; waiting out its TTL would leave the cluster
// without an actor for up to a minute. So the first campaign of a process revokes the leases of
// keys whose value is exactly its own identity (host ID + hostname + local member, see
// service/daemon_app.cpp), and only those: another host's lease is never touched.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "etcd/lock_client.h"

namespace edd::coord {

struct LockOptions {
  std::string prefix = "/etcd-defragd/lock";
  std::chrono::seconds ttl{60};
  std::string identity;  // stored as the key's value: who holds it, for people and /v1/status
  // The identity names this daemon alone (it carries a host ID), so a key holding it under a
  // lease that is not ours was left by a previous incarnation of this daemon and is revoked at
  // the first campaign. Off when no host ID could be read: then nothing is ever revoked.
  bool reclaim_previous_incarnation = false;
};

class LeaseLock {
 public:
  LeaseLock(etcd::LockClient& client, LockOptions options);

  // Ensures a live lease and our key; cheap when both exist. Fails with kNoSpace under NOSPACE
  // (a previous incarnation's lease is still revoked then: LeaseRevoke works under NOSPACE).
  Status campaign(const std::vector<std::string>& endpoints);
  // The leases of a previous incarnation that campaigns revoked since the last call (for the
  // log); empty almost always.
  std::vector<std::int64_t> take_revoked();
  // One keep-alive through the first endpoint that answers, never `avoid` (the member being
  // defragmented blocks its clients). A lease etcd no longer knows is forgotten.
  Status keep_alive(const std::vector<std::string>& endpoints, const std::string& avoid);
  // A read-only check: the oldest key under the prefix is ours and our lease is alive.
  Result<bool> owns(const std::vector<std::string>& endpoints);
  // The identity in the oldest key under the prefix; nullopt when nobody holds the lock.
  Result<std::optional<std::string>> holder(const std::vector<std::string>& endpoints);
  // Revokes our lease (its key goes with it) so another daemon can take over at once.
  // Returns whether there was a lease to revoke (not whether it owned the lock).
  bool release(const std::vector<std::string>& endpoints);

  std::int64_t lease_id() const;
  std::string key() const;

 private:
  template <class Call>
  auto first_answer(const std::vector<std::string>& endpoints, const std::string& avoid,
                    Call&& call) -> decltype(call(std::string()));
  // Revokes the leases of keys left by a previous incarnation of this daemon; done once.
  void reclaim_previous_incarnation(const std::vector<std::string>& endpoints);

  etcd::LockClient& client_;
  const LockOptions options_;
  mutable std::mutex mu_;
  std::int64_t lease_id_ = 0;  // guarded by mu_; 0: none
  std::string key_;            // guarded by mu_
  bool reclaimed_ = false;     // guarded by mu_; the previous incarnation's keys were looked for
  std::vector<std::int64_t> revoked_;  // guarded by mu_; until take_revoked()
};

}  // namespace edd::coord
