// The etcd calls the coordination lock needs (leases and a few keys), as a narrow interface of
// its own so the lock can be tested with a fake. Under NOSPACE etcd refuses LeaseGrant and every
// write, but keep-alives, reads and revokes still work. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace edd::etcd {

struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0;
};

class LockClient {
 public:
  virtual ~LockClient() = default;

  // Returns the new lease's ID.
  virtual Result<std::int64_t> lease_grant(const std::string& endpoint,
                                           std::chrono::seconds ttl) = 0;
  // One keep-alive round trip; returns the remaining TTL in seconds, 0 when the lease is gone.
  virtual Result<std::int64_t> lease_keep_alive(const std::string& endpoint,
                                                std::int64_t lease_id) = 0;
  virtual Status lease_revoke(const std::string& endpoint, std::int64_t lease_id) = 0;
  // Creates key (bound to lease_id, 0 for none) unless it exists: one Txn comparing its create
  // revision with 0. Returns the key's create revision either way.
  virtual Result<std::int64_t> create_key(const std::string& endpoint, const std::string& key,
                                          const std::string& value, std::int64_t lease_id) = 0;
  // Keys under prefix, the oldest create revision first (a linearizable read).
  virtual Result<std::vector<KeyValue>> list_prefix(const std::string& endpoint,
                                                    const std::string& prefix,
                                                    std::int64_t limit) = 0;
  virtual Status put(const std::string& endpoint, const std::string& key,
                     const std::string& value) = 0;
  virtual Result<std::optional<KeyValue>> get(const std::string& endpoint,
                                              const std::string& key) = 0;
  // A put bound to lease_id: the key goes when the lease does (a daemon's published disk room).
  virtual Status put_leased(const std::string& endpoint, const std::string& key,
                            const std::string& value, std::int64_t lease_id) = 0;
};

}  // namespace edd::etcd
