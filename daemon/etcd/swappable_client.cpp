#include "etcd/swappable_client.h"

namespace edd::etcd {

SwappableClient::SwappableClient(EtcdClients clients) : clients_(std::move(clients)) {}

void SwappableClient::replace(EtcdClients clients) {
  std::lock_guard lock(mu_);
  clients_ = std::move(clients);
}

EtcdClients SwappableClient::current() const {
  std::lock_guard lock(mu_);
  return clients_;
}

Result<std::vector<Member>> SwappableClient::member_list(const std::string& endpoint) {
  return current().cluster->member_list(endpoint);
}

Result<MemberStatus> SwappableClient::status(const std::string& endpoint) {
  return current().cluster->status(endpoint);
}

Status SwappableClient::health(const std::string& endpoint) {
  return current().cluster->health(endpoint);
}

Result<std::vector<Alarm>> SwappableClient::alarms(const std::string& endpoint) {
  return current().cluster->alarms(endpoint);
}

Status SwappableClient::disarm(const std::string& endpoint, const Alarm& alarm) {
  return current().cluster->disarm(endpoint, alarm);
}

Status SwappableClient::compact(const std::string& endpoint, std::int64_t revision, bool physical) {
  return current().cluster->compact(endpoint, revision, physical);
}

Status SwappableClient::defragment(const std::string& endpoint, std::chrono::milliseconds timeout) {
  return current().cluster->defragment(endpoint, timeout);
}

Status SwappableClient::move_leader(const std::string& leader_endpoint, std::uint64_t target_id) {
  return current().cluster->move_leader(leader_endpoint, target_id);
}

Result<HashKv> SwappableClient::hash_kv(const std::string& endpoint, std::int64_t revision) {
  return current().cluster->hash_kv(endpoint, revision);
}

Result<std::int64_t> SwappableClient::lease_grant(const std::string& endpoint,
                                                  std::chrono::seconds ttl) {
  return current().store->lease_grant(endpoint, ttl);
}

Result<std::int64_t> SwappableClient::lease_keep_alive(const std::string& endpoint,
                                                       std::int64_t lease_id) {
  return current().store->lease_keep_alive(endpoint, lease_id);
}

Status SwappableClient::lease_revoke(const std::string& endpoint, std::int64_t lease_id) {
  return current().store->lease_revoke(endpoint, lease_id);
}

Result<std::int64_t> SwappableClient::create_key(const std::string& endpoint,
                                                 const std::string& key, const std::string& value,
                                                 std::int64_t lease_id) {
  return current().store->create_key(endpoint, key, value, lease_id);
}

Result<std::vector<KeyValue>> SwappableClient::list_prefix(const std::string& endpoint,
                                                           const std::string& prefix,
                                                           std::int64_t limit) {
  return current().store->list_prefix(endpoint, prefix, limit);
}

Status SwappableClient::put_leased(const std::string& endpoint, const std::string& key,
                                   const std::string& value, std::int64_t lease_id) {
  return current().store->put_leased(endpoint, key, value, lease_id);
}

Status SwappableClient::put(const std::string& endpoint, const std::string& key,
                            const std::string& value) {
  return current().store->put(endpoint, key, value);
}

Result<std::optional<KeyValue>> SwappableClient::get(const std::string& endpoint,
                                                     const std::string& key) {
  return current().store->get(endpoint, key);
}

}  // namespace edd::etcd
