// ClusterClient over etcd's v3 gRPC API: one channel per endpoint (created on first use), TLS,
// the user/password token on every call, dial and command deadlines. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "etcd/client_options.h"
#include "etcd/cluster_client.h"
#include "etcd/key_scanner.h"
#include "etcd/lock_client.h"

namespace edd::etcd {

class GrpcClusterClient final : public ClusterClient, public LockClient, public KeyScanner {
 public:
  // Reads the TLS files; a missing or unreadable file is an error naming the flag.
  static Result<std::unique_ptr<GrpcClusterClient>> create(ClientOptions options);
  ~GrpcClusterClient() override;

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

  Result<ScanPage> range_page(const std::string& endpoint, const PageRequest& request) override;

  struct Connection;  // channel + stubs of one endpoint (defined in the .cpp)

 private:
  struct Pem {
    std::string ca, cert, key;
  };
  GrpcClusterClient(ClientOptions options, Pem pem);

  Result<std::shared_ptr<Connection>> connection(const std::string& endpoint);
  // Runs one unary call with the token, dial wait and deadline; re-authenticates once when etcd
  // says the token is invalid or expired.
  template <class Call>
  Status invoke(const std::string& endpoint, const char* what, std::chrono::milliseconds timeout,
                Call&& call);
  Status authenticate(Connection& conn, const std::string& endpoint);
  std::string token() const;

  const ClientOptions options_;
  const Pem pem_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Connection>> connections_;  // guarded by mu_
  std::string token_;                                               // guarded by mu_
};

}  // namespace edd::etcd
