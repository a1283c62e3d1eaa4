// Who acts: the lease lock (campaign, keep-alive, the lease's own end) and, under NOSPACE with
// nobody holding the lock, the member with the lowest healthy ID. Part of DaemonLoop.
#include "coord/fallback_actor.h"
#include "etcd/endpoint.h"
#include "service/daemon_loop.h"

namespace edd::service {

Status DaemonLoop::keep_alive() {
  std::string avoid;
  {
    std::lock_guard l(mu_);
    avoid = defragmenting_;
  }
  if (lock_.lease_id() == 0) return {};
  // etcd renews the lease when the request arrives, so counting the TTL from the moment it was
  // sent keeps our deadline at or before the cluster's.
  const auto sent = clock_.now();
  Status s = lock_.keep_alive(endpoints(), avoid);
  if (s) {
    std::lock_guard l(mu_);
    lease_valid_until_ = sent + settings_.lock_ttl;
  }
  expire_lock_if_due();
  return s;
}

void DaemonLoop::expire_lock_if_due() {
  bool lost = false;
  {
    std::lock_guard l(mu_);
    if (lock_held_ && clock_.now() >= lease_valid_until_) {
      lock_held_ = false;
      lost = true;
    }
  }
  if (lost) observer_.on_lock(false);
}

bool DaemonLoop::release_lock() {
  lock_.release(endpoints());
  std::lock_guard l(mu_);
  return std::exchange(lock_held_, false);
}

DaemonLoop::Actor DaemonLoop::who_acts(const PollView& view, std::string* why) {
  const bool held = campaign_and_check();
  std::string identity;
  {
    std::lock_guard l(mu_);
    identity = settings_.identity;
  }
  if (held) {
    set_actor(identity);
    return Actor::kLock;
  }
  auto holder = lock_.holder(endpoints());
  if (holder && holder->has_value()) {
    set_actor(**holder);
    *why = "the lock is held by " + **holder;
    return Actor::kNo;
  }
  set_actor("");
  if (!view.nospace) {
    *why = "nobody holds the lock yet";
    return Actor::kNo;
  }
  return nospace_fallback(view, why);
}

void DaemonLoop::set_actor(const std::string& who) {
  std::lock_guard l(mu_);
  actor_ = who;
}

// Every daemon campaigns on every poll: the lock must be held before NOSPACE, when etcd still
// grants leases. Returns whether we hold it now, and tells the observer when that changed.
bool DaemonLoop::campaign_and_check() {
  const auto eps = endpoints();
  const auto granted_no_earlier_than = clock_.now();
  const std::int64_t lease_before = lock_.lease_id();
  if (auto c = lock_.campaign(eps); !c && c.error().code != ErrorCode::kNoSpace) {
    observer_.say("lock: campaign failed: " + c.error().message);
  }
  if (const std::int64_t lease = lock_.lease_id(); lease != 0 && lease != lease_before) {
    std::lock_guard l(mu_);
    lease_valid_until_ = granted_no_earlier_than + settings_.lock_ttl;
  }
  for (const std::int64_t lease : lock_.take_revoked()) {
    observer_.say("lock: revoked lease " + etcd::member_id_hex(static_cast<std::uint64_t>(lease)) +
                  " held by a previous incarnation of this daemon (same identity); not waiting "
                  "for its TTL");
  }
  auto owns = lock_.owns(eps);
  bool changed = false;
  bool held = false;
  {
    std::lock_guard l(mu_);
    // A key that is still ours is not enough once our own deadline passed: the lease may expire
    // in the cluster any moment, and another daemon may act right after.
    held = owns && *owns && clock_.now() < lease_valid_until_;
    changed = held != lock_held_;
    lock_held_ = held;
  }
  if (changed) observer_.on_lock(held);
  return held;
}

// NOSPACE and nobody holds the lock: nobody can take it either (etcd refuses the writes). The
// member with the lowest healthy ID acts, chosen without a write.
DaemonLoop::Actor DaemonLoop::nospace_fallback(const PollView& view, std::string* why) {
  std::vector<coord::VoterHealth> voters;
  for (std::size_t i = 0; i < view.members.size(); ++i) {
    const auto& m = view.members[i];
    if (m.status) voters.push_back({m.status->member_id, view.healthy[i], m.status->is_learner});
  }
  const auto chosen = coord::fallback_actor(voters);
  if (chosen && view.local_member_id != 0 && *chosen == view.local_member_id) {
    *why =
        "lock: NOSPACE and nobody holds the lock; acting as the member with the lowest healthy ID "
        "(" +
        etcd::member_id_hex(*chosen) + ")";
    return Actor::kFallback;
  }
  *why = "NOSPACE fallback: member " + (chosen ? etcd::member_id_hex(*chosen) : "none") +
         " acts, not ours";
  return Actor::kNo;
}

Status DaemonLoop::still_actor(Actor how) {
  if (stopping_) return make_error(ErrorCode::kFailedPrecondition, "the daemon is stopping");
  const auto eps = endpoints();
  if (how == Actor::kLock) {
    auto owns = lock_.owns(eps);
    if (!owns) return owns.error();
    if (!*owns) return make_error(ErrorCode::kFailedPrecondition, "lost the lock");
    return {};
  }
  // Fallback: nobody may have taken the lock meanwhile, and we must still be the lowest
  // healthy voter.
  auto holder = lock_.holder(eps);
  if (!holder) return holder.error();
  if (holder->has_value()) {
    return make_error(ErrorCode::kFailedPrecondition, "the lock is now held by " + **holder);
  }
  const PollView fresh = poll();
  std::vector<coord::VoterHealth> voters;
  for (std::size_t i = 0; i < fresh.members.size(); ++i) {
    const auto& m = fresh.members[i];
    if (m.status) voters.push_back({m.status->member_id, fresh.healthy[i], m.status->is_learner});
  }
  const auto chosen = coord::fallback_actor(voters);
  if (!chosen || *chosen != fresh.local_member_id || fresh.local_member_id == 0) {
    return make_error(ErrorCode::kFailedPrecondition, "no longer the fallback actor");
  }
  return {};
}

bool DaemonLoop::lock_held() const {
  std::lock_guard l(mu_);
  return lock_held_;
}

}  // namespace edd::service
