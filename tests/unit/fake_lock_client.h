// An in-memory etcd for the lock: leases with a TTL on a manual clock, keys with create
// revisions, and a NOSPACE switch that refuses grants and writes as etcd does. Records which
// endpoint each call went to. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <set>

#include "etcd/lock_client.h"

namespace edd::test {

class FakeLockClient final : public etcd::LockClient {
 public:
  // NOSPACE: etcd refuses LeaseGrant, Put and writing Txns; reads and keep-alives still work.
  void set_nospace(bool on) {
    std::lock_guard l(mu_);
    nospace_ = on;
  }
  void set_down(const std::string& endpoint, bool down) {
    std::lock_guard l(mu_);
    if (down) {
      down_.insert(endpoint);
    } else {
      down_.erase(endpoint);
    }
  }
  // Expires a lease as etcd does when nobody kept it alive: its keys are deleted.
  void expire(std::int64_t lease) {
    std::lock_guard l(mu_);
    leases_.erase(lease);
    for (auto it = keys_.begin(); it != keys_.end();) {
      it = it->second.lease == lease ? keys_.erase(it) : std::next(it);
    }
  }
  std::vector<std::string> calls() const {
    std::lock_guard l(mu_);
    return calls_;
  }

  Result<std::int64_t> lease_grant(const std::string& ep, std::chrono::seconds) override {
    std::lock_guard l(mu_);
    if (auto e = refuse(ep, "grant", true)) return *e;
    const std::int64_t id = next_lease_++;
    leases_.insert(id);
    return id;
  }
  Result<std::int64_t> lease_keep_alive(const std::string& ep, std::int64_t lease) override {
    std::lock_guard l(mu_);
    if (auto e = refuse(ep, "keepalive", false)) return *e;
    return leases_.count(lease) > 0 ? std::int64_t{60} : std::int64_t{0};
  }
  Status lease_revoke(const std::string& ep, std::int64_t lease) override {
    {
      std::lock_guard l(mu_);
      if (auto e = refuse(ep, "revoke", false)) return *e;
      if (leases_.count(lease) == 0) {
        return make_error(ErrorCode::kLeaseNotFound, "(fake) lease not found");
      }
    }
    expire(lease);
    return {};
  }
  Result<std::int64_t> create_key(const std::string& ep, const std::string& key,
                                  const std::string& value, std::int64_t lease) override {
    std::lock_guard l(mu_);
    if (auto it = keys_.find(key); it != keys_.end()) return it->second.create_revision;
    if (auto e = refuse(ep, "create", true)) return *e;
    if (lease != 0 && leases_.count(lease) == 0) {
      return make_error(ErrorCode::kLeaseNotFound, "(fake) lease not found");
    }
    etcd::KeyValue kv{key, value, ++revision_, revision_, lease};
    keys_[key] = kv;
    return kv.create_revision;
  }
  Result<std::vector<etcd::KeyValue>> list_prefix(const std::string& ep, const std::string& prefix,
                                                  std::int64_t limit) override {
    std::lock_guard l(mu_);
    if (auto e = refuse(ep, "list", false)) return *e;
    std::vector<etcd::KeyValue> out;
    for (const auto& [k, kv] : keys_) {
      if (k.starts_with(prefix)) out.push_back(kv);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.create_revision < b.create_revision; });
    if (limit > 0 && out.size() > static_cast<std::size_t>(limit)) {
      out.resize(static_cast<std::size_t>(limit));
    }
    return out;
  }
  Status put(const std::string& ep, const std::string& key, const std::string& value) override {
    std::lock_guard l(mu_);
    if (auto e = refuse(ep, "put", true)) return *e;
    auto& kv = keys_[key];
    if (kv.create_revision == 0) kv.create_revision = revision_ + 1;
    kv.key = key;
    kv.value = value;
    kv.mod_revision = ++revision_;
    return {};
  }
  Status put_leased(const std::string& ep, const std::string& key, const std::string& value,
                    std::int64_t lease) override {
    std::lock_guard l(mu_);
    if (auto e = refuse(ep, "put", true)) return *e;
    if (lease != 0 && leases_.count(lease) == 0) {
      return make_error(ErrorCode::kLeaseNotFound, "(fake) lease not found");
    }
    auto& kv = keys_[key];
    if (kv.create_revision == 0) kv.create_revision = revision_ + 1;
    kv.key = key;
    kv.value = value;
    kv.lease = lease;
    kv.mod_revision = ++revision_;
    return {};
  }
  Result<std::optional<etcd::KeyValue>> get(const std::string& ep,
                                            const std::string& key) override {
    std::lock_guard l(mu_);
    if (auto e = refuse(ep, "get", false)) return *e;
    auto it = keys_.find(key);
    if (it == keys_.end()) return std::optional<etcd::KeyValue>{};
    return std::optional<etcd::KeyValue>{it->second};
  }

 private:
  // Records the call; returns the error etcd would give, if any. Call with mu_ held.
  std::optional<Error> refuse(const std::string& ep, const std::string& what, bool writes) {
    calls_.push_back(what + " " + ep);
    if (down_.count(ep) > 0) return make_error(ErrorCode::kUnavailable, ep + ": down");
    if (writes && nospace_) {
      return make_error(ErrorCode::kNoSpace, "etcdserver: mvcc: database space exceeded");
    }
    return std::nullopt;
  }

  mutable std::mutex mu_;
  bool nospace_ = false;
  std::set<std::string> down_;
  std::set<std::int64_t> leases_;
  std::map<std::string, etcd::KeyValue> keys_;
  std::int64_t next_lease_ = 0x1000;
  std::int64_t revision_ = 1;
  std::vector<std::string> calls_;
};

}  // namespace edd::test
