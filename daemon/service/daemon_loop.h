// The daemon's decision loop, one poll per step(): statuses of every member in parallel, the rule
// per member, then, when the rule fires (or a run was requested) and the daemon is not paused,
// outside its windows or in its cooldown, and is the actor (it owns the lease lock, or nobody does
// under NOSPACE and its member has the lowest healthy ID), it runs the same engine as `defrag`.
// step() runs on one worker thread; request_run(), keep_alive() and the getters are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "coord/lease_lock.h"
#include "defrag/disk_room.h"
#include "defrag/planner.h"
#include "defrag/report.h"
#include "defrag/runner.h"
#include "defrag/versions.h"
#include "etcd/cluster_client.h"
#include "etcd/lock_client.h"
#include "etcd/member_snapshot.h"
#include "policy/trigger.h"
#include "rule/rule.h"
#include "service/last_run.h"

namespace edd::service {

using policy::Trigger;
using policy::trigger_name;

struct LoopSettings {
  std::vector<std::string> seeds;
  bool cluster = true;
  std::string local_endpoint;  // this host's member
  std::string identity;        // who we are in the lock and in the last-run record
  rule::Rule rule;
  defrag::RunOptions run;  // the hooks are set per run by the loop
  std::chrono::milliseconds min_interval{std::chrono::hours(1)};
  bool nospace_bypasses_min_interval = true;
  bool defrag_during_version_change = false;
  std::string last_run_key = "/etcd-defragd/last-run";
  // The lease's TTL: with no successful keep-alive for this long the lock is no longer ours.
  std::chrono::seconds lock_ttl{60};
  // Where the daemons publish the room on disk of their members (defrag/disk_room.h).
  std::string disk_room_prefix = "/etcd-defragd/disk-room/";
};

// What one poll saw, for metrics and /v1/status.
struct PollView {
  std::vector<etcd::MemberSnapshot> members;
  std::vector<bool> healthy;                  // per member
  std::vector<defrag::RuleVerdict> verdicts;  // per member
  // Per member: the reclaim floor's verdict (holds_back only where the rule fired and no NOSPACE).
  std::vector<defrag::FloorVerdict> floors;
  std::uint64_t local_member_id = 0;
  bool nospace = false;
  std::string error;  // why the poll failed (no member reachable, ...)
  defrag::VersionChangeVerdict version_change;
  std::vector<std::string> version_warnings;  // known defrag bugs and a version change
  // Room on disk: this host's own (nullopt: not measured) and what every daemon published, by
  // member ID (ours measured now).
  std::optional<defrag::DiskRoom> local_disk_room;
  std::map<std::uint64_t, defrag::DiskRoom> disk_rooms;
};

enum class Decision {
  kIdle,
  kPaused,
  kOutsideWindow,
  kCooldown,
  kNotActor,
  kUnhealthy,      // the actor waits: a voter is down or unhealthy, a run would stop at its gate
  kVersionChange,  // the actor waits: an etcd upgrade or downgrade is in progress
  kRan,
  kPollFailed
};
std::string decision_name(Decision d);

struct StepResult {
  Decision decision = Decision::kIdle;
  std::string reason;
  std::optional<defrag::RunReport> report;
};

class LoopObserver {
 public:
  virtual ~LoopObserver() = default;
  virtual void on_poll(const PollView& view, std::chrono::nanoseconds took) = 0;
  virtual void on_run(Trigger trigger, const defrag::RunReport& report) = 0;
  virtual void on_lock(bool held) = 0;
  virtual void say(const std::string& line) = 0;  // progress and decisions, for the log
};

struct LoopHooks {
  std::function<bool()> paused;  // the kill switch: a file's presence
  std::function<bool(std::chrono::system_clock::time_point)> in_window;
  // The last-run record's text in etcd (the app's is last_run_json.h). Unset: the record stays
  // in this process only, and no other daemon's is read.
  EncodeLastRun encode_last_run;
  DecodeLastRun decode_last_run;
  // The free bytes of our member's data directory (statvfs); unset or nullopt: unknown, and
  // nothing is published.
  std::function<std::optional<defrag::DiskRoom>()> measure_disk_room;
};

class DaemonLoop {
 public:
  DaemonLoop(etcd::ClusterClient& cluster, etcd::LockClient& store, coord::LeaseLock& lock,
             Clock& clock, LoopHooks hooks, LoopSettings settings, LoopObserver& observer);

  StepResult step();

  // A run asked for from outside (webhook, operator); picked up by the next step. With
  // bypass_rule the alert is the rule; the health gate and every safety check still apply.
  void request_run(Trigger trigger, bool bypass_rule);
  bool run_pending() const;

  // One keep-alive of the lock's lease, never through the member being defragmented. Called on
  // its own timer, from its own thread.
  Status keep_alive();
  // Stops claiming the lock once no keep-alive has renewed the lease for a whole TTL, counted
  // from when the last good one was sent. keep_alive() checks after each call; the caller also
  // calls this on a short timer of its own, since a keep-alive to an unreachable cluster blocks
  // for its timeouts, past the lease's end.
  void expire_lock_if_due();

  std::optional<LastRun> last_run() const;
  PollView last_view() const;
  std::string actor() const;  // who holds the lock, as last seen ("" when nobody)
  bool lock_held() const;     // this daemon holds the lock (as of its last step)
  void replace_settings(LoopSettings settings);  // SIGHUP: applies from the next step
  // SIGTERM: a run in progress stops before its next destructive step.
  void request_stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }
  // Revokes our lease; returns whether this process held the lock (for an honest log line).
  bool release_lock();

 private:
  enum class Actor { kNo, kLock, kFallback };
  // What a step works from, taken at its start: later changes apply at the next step.
  struct StepInputs {
    LoopSettings settings;
    std::optional<Trigger> requested;
    bool bypass_rule = false;
  };
  struct Wait {
    Decision decision;
    std::string why;
  };

  PollView poll();
  PollView poll_and_publish();
  StepInputs take_inputs();
  static std::string first_fired(const PollView& view);
  static std::string held_back(const PollView& view);
  std::optional<Wait> reason_to_wait(const PollView& view, const StepInputs& in, Actor actor,
                                     const std::string& actor_why);
  std::optional<std::string> cooldown(const LoopSettings& s, Clock::wall_time wall);
  StepResult not_now(const StepInputs& in, Wait wait);
  StepResult run(const PollView& view, const StepInputs& in, Actor actor, const std::string& fired);
  // Campaigns, then says who acts; `why` explains kNo and kFallback (a line for the log).
  Actor who_acts(const PollView& view, std::string* why);
  bool campaign_and_check();
  Actor nospace_fallback(const PollView& view, std::string* why);
  void set_actor(const std::string& who);
  Status still_actor(Actor how);
  std::optional<LastRun> read_last_run();
  void write_last_run(const LastRun& run);
  std::vector<std::string> endpoints() const;
  // Room on disk (daemon_loop_room.cpp): measured and read for the view, published on our lease
  // once we have one, read again by the run before each member.
  void add_disk_rooms(PollView& view);
  void publish_disk_room(const PollView& view);
  std::map<std::uint64_t, defrag::DiskRoom> disk_rooms_for_run(const std::string& room_prefix,
                                                               std::uint64_t local_member_id);

  etcd::ClusterClient& cluster_;
  etcd::LockClient& store_;
  coord::LeaseLock& lock_;
  Clock& clock_;
  LoopHooks hooks_;
  LoopObserver& observer_;

  mutable std::mutex mu_;
  LoopSettings settings_;                  // guarded by mu_ (copied at the start of a step)
  std::vector<std::string> endpoints_;     // guarded by mu_: the last discovered endpoints
  std::string defragmenting_;              // guarded by mu_
  std::optional<Trigger> requested_;       // guarded by mu_
  bool requested_bypass_rule_ = false;     // guarded by mu_
  std::optional<LastRun> last_run_;        // guarded by mu_
  bool last_run_unsaved_ = false;          // guarded by mu_: to write when etcd takes writes again
  PollView last_view_;                     // guarded by mu_
  std::string actor_;                      // guarded by mu_
  bool lock_held_ = false;                 // guarded by mu_
  Clock::time_point lease_valid_until_{};  // guarded by mu_: the lease may be gone after this
  bool disk_room_published_ = true;        // worker only: to say a failed publish once
  std::atomic<bool> stopping_{false};
};

}  // namespace edd::service
