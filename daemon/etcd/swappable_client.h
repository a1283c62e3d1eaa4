// A ClusterClient and LockClient that forwards every call to the current real client, which
// SIGHUP may replace (rotated certificates, a new password, new endpoints) without a restart.
// Calls in flight keep the client they started with. Thread-safe.
#pragma once

#include <memory>
#include <mutex>

#include "etcd/cluster_client.h"
#include "etcd/lock_client.h"

namespace edd::etcd {

// The two faces of one connection to etcd (the gRPC client is both; tests give two fakes).
struct EtcdClients {
  std::shared_ptr<ClusterClient> cluster;
  std::shared_ptr<LockClient> store;
};

class SwappableClient final : public ClusterClient, public LockClient {
 public:
  explicit SwappableClient(EtcdClients clients);
  void replace(EtcdClients clients);

  Result<std::vector<Member>> member_list(const std::string& endpoint) override;
  Result<MemberStatus> status(const std::string& endpoint) override;
  Status health(const std::string& endpoint) override;
  Result<std::vector<Alarm>> alarms(const std::string& endpoint) override;
  Status disarm(const std::string& endpoint, const Alarm& alarm) override;
  Status compact(const std::string& endpoint, std::int64_t revision, bool physical) override;
  Status defragment(const std::string& endpoint, std::chrono::milliseconds timeout) override;
  Status move_leader(const std::string& leader_endpoint, std::uint64_t target_id) override;
  Result<HashKv> hash_kv(const std::string& endpoint, std::int64_t revision) override;

  Result<std::int64_t> lease_grant(const std::string& endpoint, std::chrono::seconds ttl) override;
  Result<std::int64_t> lease_keep_alive(const std::string& endpoint,
                                        std::int64_t lease_id) override;
  Status lease_revoke(const std::string& endpoint, std::int64_t lease_id) override;
  Result<std::int64_t> create_key(const std::string& endpoint, const std::string& key,
                                  const std::string& value, std::int64_t lease_id) override;
  Result<std::vector<KeyValue>> list_prefix(const std::string& endpoint, const std::string& prefix,
                                            std::int64_t limit) override;
  Status put(const std::string& endpoint, const std::string& key,
             const std::string& value) override;
  Result<std::optional<KeyValue>> get(const std::string& endpoint, const std::string& key) override;
  Status put_leased(const std::string& endpoint, const std::string& key, const std::string& value,
                    std::int64_t lease_id) override;

 private:
  EtcdClients current() const;

  mutable std::mutex mu_;
  EtcdClients clients_;  // guarded by mu_
};

}  // namespace edd::etcd
