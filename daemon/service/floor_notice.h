// Says once why the daemon does not act when the rule fires but the reclaim floor holds a member
// back: a line when that begins, another when the members held back change or none is any more,
// nothing at the polls in between. Pure; not thread-safe (the observer holds it under its lock).
#pragma once

#include <string>

#include "service/daemon_loop.h"

namespace edd::service {

class FloorNotice {
 public:
  // The line to log for this poll, or "" when nothing changed. A failed poll changes nothing.
  std::string update(const PollView& view);

 private:
  std::string held_;  // the endpoints held back at the last poll, comma-separated
};

}  // namespace edd::service
