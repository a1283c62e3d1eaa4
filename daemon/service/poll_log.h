// What the daemon says about each poll. A decision that repeats poll after poll (not the actor
// for the whole of another daemon's run, paused for a night) is logged once at info and then at
// debug until it changes, so the journal shows changes, not a line per poll. Runs are always
// logged at info; an idle poll ends the repetition.
#pragma once

#include <string>

#include "service/daemon_loop.h"

namespace edd::service {

class PollLog {
 public:
  enum class Level { kNone, kDebug, kInfo };

  // The level for this poll's line (kNone for an idle poll, which says nothing).
  Level level(const StepResult& r) {
    if (r.decision == Decision::kIdle) {
      last_.clear();
      return Level::kNone;
    }
    std::string line = line_of(r);
    const bool repeated = r.decision != Decision::kRan && line == last_;
    last_ = std::move(line);
    return repeated ? Level::kDebug : Level::kInfo;
  }

  static std::string line_of(const StepResult& r) {
    return "poll: " + decision_name(r.decision) + (r.reason.empty() ? "" : ": " + r.reason);
  }

 private:
  std::string last_;
};

}  // namespace edd::service
