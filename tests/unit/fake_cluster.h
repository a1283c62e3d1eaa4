// FakeCluster: an in-memory etcd cluster behind ClusterClient, for tests of the engine and the
// daemon. Members, sizes, alarms and failures are scripted; every call that changes the cluster
// is recorded in an event log so tests can assert order. Thread-safe (one mutex): the runner asks
// for health, status and hashes from several threads at once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "etcd/cluster_client.h"
#include "etcd/types.h"

namespace edd::test {

// One scripted member. Status reports db_size / db_size_in_use; a successful Defragment replaces
// them with the *_after figures (by default the file shrinks to its in-use size).
struct FakeMember {
  std::string endpoint;  // the member's client URL: what MemberList returns and Status answers
  std::uint64_t id = 0;
  std::string name;
  bool is_learner = false;
  bool started = true;                      // false: MemberList shows no name and no client URL
  std::vector<std::string> more_endpoints;  // further client URLs of the same member

  std::int64_t db_size = 0;
  std::int64_t db_size_in_use = 0;
  std::optional<std::int64_t> db_size_after;         // default: db_size_in_use
  std::optional<std::int64_t> db_size_in_use_after;  // default: db_size_in_use
  std::int64_t db_size_quota = 0;                    // 0: etcd before 3.6 (not in Status)
  std::string version = "3.5.17";                    // the server version Status reports
  bool downgrade_enabled = false;                    // Status.downgradeInfo (etcd 3.6+)

  std::uint32_t hash = 0x5eed;                // what HashKV answers
  std::optional<std::uint64_t> sees_leader;   // Status's leader as this member sees it; default:
                                              // the cluster's leader (0: an election is running)
  std::chrono::milliseconds defrag_takes{0};  // slept on the clock given to use_clock()

  // Raft catch-up: after its defrag the member's applied index is lag_after_defrag entries behind
  // the raft index, and catches up by catch_up_per_status entries each time it answers Status
  // (0: never). applied_lag is the current lag.
  std::uint64_t lag_after_defrag = 0;
  std::uint64_t catch_up_per_status = 1;
  std::uint64_t applied_lag = 0;
};

class FakeCluster final : public etcd::ClusterClient {
 public:
  static constexpr std::uint64_t kClusterId = 0xc1c1;

  FakeCluster(std::vector<FakeMember> members, std::uint64_t leader_id)
      : members_(std::move(members)), leader_id_(leader_id) {}

  // ---- scripting: any thread, also from inside a hook

  void set_leader(std::uint64_t id) {
    std::lock_guard lock(mu_);
    leader_id_ = id;
  }
  void set_revision(std::int64_t revision) {
    std::lock_guard lock(mu_);
    revision_ = revision;
  }
  void raise_alarm(std::uint64_t member_id, etcd::AlarmType type) {
    std::lock_guard lock(mu_);
    alarms_.push_back({member_id, type});
  }
  // Changes a member in place; `change` must not call the fake.
  void edit(const std::string& endpoint, const std::function<void(FakeMember&)>& change) {
    std::lock_guard lock(mu_);
    FakeMember* m = find(endpoint);
    if (m == nullptr) throw std::invalid_argument("FakeCluster::edit: no member " + endpoint);
    change(*m);
  }

  // Failures, per call name ("status", "health", "defragment", ... or "*" for every call) and
  // endpoint. A call fails when the "*" script or its own script says so, "*" first.
  // The next `times` calls fail with `error`, then the call behaves as before.
  void fail_next(const std::string& call, const std::string& endpoint, Error error, int times = 1) {
    std::lock_guard lock(mu_);
    auto& script = script_of(call, endpoint);
    for (int i = 0; i < times; ++i) script.queue.emplace_back(error);
  }
  // The next `successes` calls behave, every later one fails with `error`.
  void fail_after(const std::string& call, const std::string& endpoint, int successes,
                  Error error) {
    std::lock_guard lock(mu_);
    auto& script = script_of(call, endpoint);
    for (int i = 0; i < successes; ++i) script.queue.emplace_back(std::nullopt);
    script.forever = std::move(error);
  }
  void fail_always(const std::string& call, const std::string& endpoint, Error error) {
    fail_after(call, endpoint, 0, std::move(error));
  }
  // Every call to the endpoint fails as a refused connection, from now or after `calls` calls.
  void make_unreachable(const std::string& endpoint) { unreachable_after(endpoint, 0); }
  void unreachable_after(const std::string& endpoint, int calls) {
    fail_after("*", endpoint, calls, refused(endpoint, "connect"));
  }
  // The member restarts on another etcd release (a rolling upgrade step).
  void set_version(const std::string& endpoint, const std::string& version) {
    std::lock_guard lock(mu_);
    find(endpoint)->version = version;
  }
  // Forgets every scripted failure of the endpoint.
  void heal(const std::string& endpoint) {
    std::lock_guard lock(mu_);
    for (auto it = scripts_.begin(); it != scripts_.end();) {
      it = it->first.second == endpoint ? scripts_.erase(it) : std::next(it);
    }
  }

  // Runs `hook` once, on the calling thread and outside the fake's lock, right after the next
  // `call` to `endpoint` returns (whatever it returned). The hook may script the fake.
  void after_next(const std::string& call, const std::string& endpoint,
                  std::function<void()> hook) {
    std::lock_guard lock(mu_);
    check_call_name(call);
    hooks_[{call, endpoint}].push_back(std::move(hook));
  }

  // Members' defrag_takes are slept on this clock (a ManualClock advances, nothing waits).
  void use_clock(Clock& clock) {
    std::lock_guard lock(mu_);
    clock_ = &clock;
  }

  // ---- observation

  // Every call that changes the cluster, in order: "compact etcd-2:2379 rev=42",
  // "defragment etcd-2:2379", "disarm 2 NOSPACE", "move_leader etcd-1:2379 -> 2"; a call that
  // failed ends in " failed".
  std::vector<std::string> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<std::string> events_starting_with(std::string_view prefix) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& e : events_) {
      if (std::string_view(e).starts_with(prefix)) out.push_back(e);
    }
    return out;
  }
  // How many times `call` reached the fake for `endpoint` (failed calls included).
  int calls(const std::string& call, const std::string& endpoint) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find({call, endpoint});
    return it == calls_.end() ? 0 : it->second;
  }
  std::uint64_t leader_id() const {
    std::lock_guard lock(mu_);
    return leader_id_;
  }
  std::vector<etcd::Alarm> active_alarms() const {
    std::lock_guard lock(mu_);
    return alarms_;
  }
  std::optional<std::int64_t> compacted_revision() const {
    std::lock_guard lock(mu_);
    return compacted_revision_;
  }
  FakeMember member(const std::string& endpoint) const {
    std::lock_guard lock(mu_);
    const FakeMember* m = find(endpoint);
    if (m == nullptr) throw std::invalid_argument("FakeCluster::member: no member " + endpoint);
    return *m;
  }

  // ---- ClusterClient

  Result<std::vector<etcd::Member>> member_list(const std::string& endpoint) override {
    auto result = [&]() -> Result<std::vector<etcd::Member>> {
      std::lock_guard lock(mu_);
      if (auto e = check("member_list", endpoint, "member list")) return *e;
      std::vector<etcd::Member> out;
      for (const auto& m : members_) {
        etcd::Member row;
        row.id = m.id;
        row.is_learner = m.is_learner;
        row.peer_urls = {"http://" + m.name + ":2380"};
        if (m.started) {
          row.name = m.name;
          row.client_urls.push_back(m.endpoint);
          row.client_urls.insert(row.client_urls.end(), m.more_endpoints.begin(),
                                 m.more_endpoints.end());
        }
        out.push_back(std::move(row));
      }
      return out;
    }();
    run_hooks("member_list", endpoint);
    return result;
  }

  Result<etcd::MemberStatus> status(const std::string& endpoint) override {
    auto result = [&]() -> Result<etcd::MemberStatus> {
      std::lock_guard lock(mu_);
      if (auto e = check("status", endpoint, "status", /*learners_answer=*/true)) return *e;
      FakeMember& m = *find(endpoint);
      etcd::MemberStatus st;
      st.endpoint = endpoint;
      st.cluster_id = kClusterId;
      st.member_id = m.id;
      st.leader_id = m.sees_leader.value_or(leader_id_);
      st.version = m.version;
      st.downgrade_enabled = m.downgrade_enabled;
      st.downgrade_target_version = m.downgrade_enabled ? "3.5.0" : "";
      st.db_size = m.db_size;
      st.db_size_in_use = m.db_size_in_use;
      st.db_size_quota = m.db_size_quota;
      st.raft_term = raft_term_;
      st.raft_index = raft_index_;
      st.raft_applied_index = raft_index_ - std::min(m.applied_lag, raft_index_);
      st.revision = revision_;
      st.is_learner = m.is_learner;
      for (const auto& a : alarms_) {
        if (a.member_id == m.id) {
          st.errors.push_back("memberID:" + std::to_string(a.member_id) +
                              " alarm:" + etcd::alarm_name(a.type));
        }
      }
      m.applied_lag -= std::min(m.applied_lag, m.catch_up_per_status);
      return st;
    }();
    run_hooks("status", endpoint);
    return result;
  }

  Status health(const std::string& endpoint) override {
    auto result = [&]() -> Status {
      std::lock_guard lock(mu_);
      if (auto e = check("health", endpoint, "health check")) return *e;
      return {};
    }();
    run_hooks("health", endpoint);
    return result;
  }

  Result<std::vector<etcd::Alarm>> alarms(const std::string& endpoint) override {
    auto result = [&]() -> Result<std::vector<etcd::Alarm>> {
      std::lock_guard lock(mu_);
      if (auto e = check("alarms", endpoint, "alarm list")) return *e;
      return alarms_;
    }();
    run_hooks("alarms", endpoint);
    return result;
  }

  Status disarm(const std::string& endpoint, const etcd::Alarm& alarm) override {
    auto result = [&]() -> Status {
      std::lock_guard lock(mu_);
      const std::string event =
          "disarm " + etcd::member_id_hex(alarm.member_id) + " " + etcd::alarm_name(alarm.type);
      if (auto e = check("disarm", endpoint, "alarm disarm")) return failed(event, *e);
      // As etcd does: member ID 0 deactivates that alarm on every member.
      std::erase_if(alarms_, [&](const etcd::Alarm& a) {
        return a.type == alarm.type && (alarm.member_id == 0 || a.member_id == alarm.member_id);
      });
      ++raft_index_;
      events_.push_back(event);
      return {};
    }();
    run_hooks("disarm", endpoint);
    return result;
  }

  Status compact(const std::string& endpoint, std::int64_t revision, bool /*physical*/) override {
    auto result = [&]() -> Status {
      std::lock_guard lock(mu_);
      const std::string event = "compact " + endpoint + " rev=" + std::to_string(revision);
      if (auto e = check("compact", endpoint, "compact")) return failed(event, *e);
      if (revision > revision_) {
        return failed(event, make_error(ErrorCode::kFutureRevision,
                                        endpoint + ": compact: (fake) future revision"));
      }
      // An already-compacted revision is not an error (the interface's promise).
      compacted_revision_ = std::max(compacted_revision_.value_or(0), revision);
      ++raft_index_;
      events_.push_back(event);
      return {};
    }();
    run_hooks("compact", endpoint);
    return result;
  }

  Status defragment(const std::string& endpoint, std::chrono::milliseconds timeout) override {
    std::chrono::milliseconds takes{0};
    Clock* clock = nullptr;
    auto result = [&]() -> Status {
      std::lock_guard lock(mu_);
      const std::string event = "defragment " + endpoint;
      if (auto e = check("defragment", endpoint, "defragment")) return failed(event, *e);
      FakeMember& m = *find(endpoint);
      last_defrag_timeout_[endpoint] = timeout;
      m.db_size = m.db_size_after.value_or(m.db_size_in_use);
      m.db_size_in_use = m.db_size_in_use_after.value_or(m.db_size_in_use);
      m.applied_lag = m.lag_after_defrag;
      takes = m.defrag_takes;
      clock = clock_;
      events_.push_back(event);
      return {};
    }();
    if (clock != nullptr && takes.count() > 0) clock->sleep_for(takes);
    run_hooks("defragment", endpoint);
    return result;
  }

  Status move_leader(const std::string& leader_endpoint, std::uint64_t target_id) override {
    auto result = [&]() -> Status {
      std::lock_guard lock(mu_);
      const std::string event =
          "move_leader " + leader_endpoint + " -> " + etcd::member_id_hex(target_id);
      if (auto e = check("move_leader", leader_endpoint, "move leader")) return failed(event, *e);
      if (find(leader_endpoint)->id != leader_id_) {
        return failed(event, make_error(ErrorCode::kFailedPrecondition,
                                        leader_endpoint + ": move leader: etcdserver: not leader"));
      }
      const FakeMember* target = find_id(target_id);
      if (target == nullptr || target->is_learner) {
        return failed(event, make_error(ErrorCode::kFailedPrecondition,
                                        leader_endpoint + ": move leader: etcdserver: bad leader "
                                                          "transferee"));
      }
      leader_id_ = target_id;
      ++raft_term_;
      ++raft_index_;
      events_.push_back(event);
      return {};
    }();
    run_hooks("move_leader", leader_endpoint);
    return result;
  }

  Result<etcd::HashKv> hash_kv(const std::string& endpoint, std::int64_t revision) override {
    auto result = [&]() -> Result<etcd::HashKv> {
      std::lock_guard lock(mu_);
      if (auto e = check("hash_kv", endpoint, "hashkv")) return *e;
      if (revision != 0 && revision < compacted_revision_.value_or(0)) {
        return make_error(ErrorCode::kCompacted, endpoint + ": hashkv: (fake) compacted");
      }
      if (revision > revision_) {
        return make_error(ErrorCode::kFutureRevision,
                          endpoint + ": hashkv: (fake) future revision");
      }
      etcd::HashKv h;
      h.hash = find(endpoint)->hash;
      h.compact_revision = compacted_revision_.value_or(0);
      h.revision = revision != 0 ? revision : revision_;
      return h;
    }();
    run_hooks("hash_kv", endpoint);
    return result;
  }

  // The timeout the last Defragment of `endpoint` was given (zero if none).
  std::chrono::milliseconds last_defrag_timeout(const std::string& endpoint) const {
    std::lock_guard lock(mu_);
    auto it = last_defrag_timeout_.find(endpoint);
    return it == last_defrag_timeout_.end() ? std::chrono::milliseconds{0} : it->second;
  }

  static Error refused(const std::string& endpoint, const std::string& what) {
    return make_error(ErrorCode::kUnavailable,
                      endpoint + ": " + what + ": failed to connect to all addresses");
  }

 private:
  using Key = std::pair<std::string, std::string>;  // call name, endpoint

  struct Script {
    std::deque<std::optional<Error>> queue;  // consumed one per call; nullopt: behave
    std::optional<Error> forever;            // once the queue is empty
  };

  static void check_call_name(const std::string& call) {
    static const std::set<std::string> kCalls = {
        "*",      "member_list", "status",     "health",      "alarms",
        "disarm", "compact",     "defragment", "move_leader", "hash_kv"};
    if (kCalls.count(call) == 0) throw std::invalid_argument("FakeCluster: no call " + call);
  }

  Script& script_of(const std::string& call, const std::string& endpoint) {
    check_call_name(call);
    return scripts_[{call, endpoint}];
  }

  template <class Members>
  static auto* find_in(Members& members, const std::string& endpoint) {
    auto it = std::find_if(members.begin(), members.end(), [&](const FakeMember& m) {
      return m.endpoint == endpoint || std::find(m.more_endpoints.begin(), m.more_endpoints.end(),
                                                 endpoint) != m.more_endpoints.end();
    });
    return it == members.end() ? nullptr : &*it;
  }
  FakeMember* find(const std::string& endpoint) { return find_in(members_, endpoint); }
  const FakeMember* find(const std::string& endpoint) const { return find_in(members_, endpoint); }
  const FakeMember* find_id(std::uint64_t id) const {
    for (const auto& m : members_) {
      if (m.id == id) return &m;
    }
    return nullptr;
  }

  // Counts the call and says whether it fails: a scripted failure, an unknown endpoint, or a
  // learner asked for anything but Status (etcd: "rpc not supported for learner"). Lock held.
  std::optional<Error> check(const std::string& call, const std::string& endpoint,
                             const std::string& what, bool learners_answer = false) {
    ++calls_[{call, endpoint}];
    for (const Key& key : {Key{"*", endpoint}, Key{call, endpoint}}) {
      auto it = scripts_.find(key);
      if (it == scripts_.end()) continue;
      Script& s = it->second;
      if (!s.queue.empty()) {
        auto e = std::move(s.queue.front());
        s.queue.pop_front();
        if (e) return e;
      } else if (s.forever) {
        return s.forever;
      }
    }
    const FakeMember* m = find(endpoint);
    if (m == nullptr) return refused(endpoint, what);
    if (m->is_learner && !learners_answer) {
      return make_error(ErrorCode::kFailedPrecondition,
                        endpoint + ": " + what + ": etcdserver: rpc not supported for learner");
    }
    return std::nullopt;
  }

  Error failed(const std::string& event, Error error) {
    events_.push_back(event + " failed");
    return error;
  }

  void run_hooks(const std::string& call, const std::string& endpoint) {
    std::vector<std::function<void()>> due;
    {
      std::lock_guard lock(mu_);
      auto it = hooks_.find({call, endpoint});
      if (it == hooks_.end()) return;
      due = std::move(it->second);
      hooks_.erase(it);
    }
    for (auto& hook : due) hook();
  }

  mutable std::mutex mu_;
  std::vector<FakeMember> members_;
  std::uint64_t leader_id_ = 0;
  std::uint64_t raft_term_ = 2;
  std::uint64_t raft_index_ = 1000;
  std::int64_t revision_ = 42;
  std::optional<std::int64_t> compacted_revision_;
  std::vector<etcd::Alarm> alarms_;
  std::vector<std::string> events_;
  std::map<Key, int> calls_;
  std::map<Key, Script> scripts_;
  std::map<Key, std::vector<std::function<void()>>> hooks_;
  std::map<std::string, std::chrono::milliseconds> last_defrag_timeout_;
  Clock* clock_ = nullptr;
};

// The cluster most tests start from: three voters etcd-1..3 (IDs 1..3) of 100 MB each with
// 40 MB in use; the caller picks the leader.
inline constexpr const char* kEtcd1 = "etcd-1:2379";
inline constexpr const char* kEtcd2 = "etcd-2:2379";
inline constexpr const char* kEtcd3 = "etcd-3:2379";

inline FakeMember fake_member(std::string endpoint, std::uint64_t id, std::string name) {
  FakeMember m;
  m.endpoint = std::move(endpoint);
  m.id = id;
  m.name = std::move(name);
  m.db_size = 100'000'000;
  m.db_size_in_use = 40'000'000;
  return m;
}

inline std::vector<FakeMember> three_members() {
  return {fake_member(kEtcd1, 1, "etcd-1"), fake_member(kEtcd2, 2, "etcd-2"),
          fake_member(kEtcd3, 3, "etcd-3")};
}

}  // namespace edd::test
