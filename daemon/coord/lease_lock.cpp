#include "coord/lease_lock.h"

#include <cstdio>
#include <utility>

namespace edd::coord {
namespace {

std::string hex(std::int64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace

LeaseLock::LeaseLock(etcd::LockClient& client, LockOptions options)
    : client_(client), options_(std::move(options)) {}

template <class Call>
auto LeaseLock::first_answer(const std::vector<std::string>& endpoints, const std::string& avoid,
                             Call&& call) -> decltype(call(std::string())) {
  std::optional<decltype(call(std::string()))> last;
  for (const auto& ep : endpoints) {
    if (ep == avoid) continue;
    auto r = call(ep);
    // NOSPACE or a refused request is the cluster's answer, not this member's problem.
    if (r || (r.error().code != ErrorCode::kUnavailable &&
              r.error().code != ErrorCode::kDeadlineExceeded)) {
      return r;
    }
    last.emplace(std::move(r));
  }
  if (last) return std::move(*last);
  return make_error(ErrorCode::kUnavailable, "no endpoint to reach etcd");
}

std::int64_t LeaseLock::lease_id() const {
  std::lock_guard lock(mu_);
  return lease_id_;
}

std::string LeaseLock::key() const {
  std::lock_guard lock(mu_);
  return key_;
}

std::vector<std::int64_t> LeaseLock::take_revoked() {
  std::lock_guard lock(mu_);
  return std::exchange(revoked_, {});
}

void LeaseLock::reclaim_previous_incarnation(const std::vector<std::string>& endpoints) {
  {
    std::lock_guard lock(mu_);
    if (reclaimed_ || !options_.reclaim_previous_incarnation || options_.identity.empty()) return;
  }
  auto keys = first_answer(endpoints, "", [&](const std::string& ep) {
    return client_.list_prefix(ep, options_.prefix + "/", 0);
  });
  if (!keys) return;  // looked for again at the next campaign
  const std::int64_t mine = lease_id();
  std::vector<std::int64_t> revoked;
  for (const auto& kv : *keys) {
    // Only our exact identity; a key without a lease cannot be one of ours.
    if (kv.value != options_.identity || kv.lease == 0 || kv.lease == mine) continue;
    auto r = first_answer(
        endpoints, "", [&](const std::string& ep) { return client_.lease_revoke(ep, kv.lease); });
    // A lease that expired meanwhile is gone anyway; any other failure: the TTL will do it.
    if (r) revoked.push_back(kv.lease);
  }
  std::lock_guard lock(mu_);
  reclaimed_ = true;
  revoked_.insert(revoked_.end(), revoked.begin(), revoked.end());
}

Status LeaseLock::campaign(const std::vector<std::string>& endpoints) {
  std::int64_t lease = lease_id();
  if (lease == 0) {
    // Before our own lease exists; works under NOSPACE too (LeaseRevoke is not refused).
    reclaim_previous_incarnation(endpoints);
    auto granted = first_answer(endpoints, "", [&](const std::string& ep) {
      return client_.lease_grant(ep, options_.ttl);
    });
    if (!granted) return granted.error();
    lease = *granted;
    std::lock_guard lock(mu_);
    lease_id_ = lease;
    key_ = options_.prefix + "/" + hex(lease);
  }
  const std::string k = key();
  auto created = first_answer(endpoints, "", [&](const std::string& ep) {
    return client_.create_key(ep, k, options_.identity, lease);
  });
  if (!created) {
    // A lease that expired while we were away cannot hold a key: start again next time.
    if (created.error().code == ErrorCode::kLeaseNotFound) {
      std::lock_guard lock(mu_);
      lease_id_ = 0;
    }
    return created.error();
  }
  return {};
}

Status LeaseLock::keep_alive(const std::vector<std::string>& endpoints, const std::string& avoid) {
  const std::int64_t lease = lease_id();
  if (lease == 0) return make_error(ErrorCode::kFailedPrecondition, "no lease to keep alive");
  auto ttl = first_answer(
      endpoints, avoid, [&](const std::string& ep) { return client_.lease_keep_alive(ep, lease); });
  if (!ttl) return ttl.error();
  if (*ttl <= 0) {
    std::lock_guard lock(mu_);
    if (lease_id_ == lease) lease_id_ = 0;
    return make_error(ErrorCode::kNotFound, "lease " + hex(lease) + " expired");
  }
  return {};
}

Result<bool> LeaseLock::owns(const std::vector<std::string>& endpoints) {
  const std::string mine = key();
  if (lease_id() == 0 || mine.empty()) return false;
  auto oldest = first_answer(endpoints, "", [&](const std::string& ep) {
    return client_.list_prefix(ep, options_.prefix + "/", 1);
  });
  if (!oldest) return oldest.error();
  return !oldest->empty() && oldest->front().key == mine;
}

Result<std::optional<std::string>> LeaseLock::holder(const std::vector<std::string>& endpoints) {
  auto oldest = first_answer(endpoints, "", [&](const std::string& ep) {
    return client_.list_prefix(ep, options_.prefix + "/", 1);
  });
  if (!oldest) return oldest.error();
  if (oldest->empty()) return std::optional<std::string>{};
  return std::optional<std::string>{oldest->front().value};
}

bool LeaseLock::release(const std::vector<std::string>& endpoints) {
  std::int64_t lease = 0;
  {
    std::lock_guard lock(mu_);
    lease = lease_id_;
    lease_id_ = 0;
  }
  if (lease == 0) return false;
  (void)first_answer(endpoints, "",
                     [&](const std::string& ep) { return client_.lease_revoke(ep, lease); });
  return true;
}

}  // namespace edd::coord
