// Who acts: etcd's concurrency-mutex pattern. Each daemon holds a key prefix/<lease-id-hex> bound
// to its own lease; the key with the oldest create revision owns the lock. Daemons campaign all
// the time, so a lock taken before a NOSPACE alarm survives it (etcd then refuses LeaseGrant and
// writes, but keep-alives and reads still work). Thread-safe: the keep-alive timer and the worker
// call it concurrently.
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
};

class LeaseLock {
 public:
  LeaseLock(etcd::LockClient& client, LockOptions options);

  // Ensures a live lease and our key; cheap when both exist. Fails with kNoSpace under NOSPACE.
  Status campaign(const std::vector<std::string>& endpoints);
  // One keep-alive through the first endpoint that answers, never `avoid` (the member being
  // defragmented blocks its clients). A lease etcd no longer knows is forgotten.
  Status keep_alive(const std::vector<std::string>& endpoints, const std::string& avoid);
  // A read-only check: the oldest key under the prefix is ours and our lease is alive.
  Result<bool> owns(const std::vector<std::string>& endpoints);
  // The identity in the oldest key under the prefix; nullopt when nobody holds the lock.
  Result<std::optional<std::string>> holder(const std::vector<std::string>& endpoints);
  // Revokes our lease (its key goes with it) so another daemon can take over at once.
  void release(const std::vector<std::string>& endpoints);

  std::int64_t lease_id() const;
  std::string key() const;

 private:
  template <class Call>
  auto first_answer(const std::vector<std::string>& endpoints, const std::string& avoid,
                    Call&& call) -> decltype(call(std::string()));

  etcd::LockClient& client_;
  const LockOptions options_;
  mutable std::mutex mu_;
  std::int64_t lease_id_ = 0;  // guarded by mu_; 0: none
  std::string key_;            // guarded by mu_
};

}  // namespace edd::coord
