// Runs a command and timestamps each line it prints as the line arrives, so a tool's progress
// output shows where its time goes. Free function, no shared state: safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace edd::bench {

struct TimedLine {
  double at_ms = 0;  // since the command was started
  std::string text;
};

struct TimedResult {
  int exit_code = -1;  // 128 + signal if killed by one; -1 when it timed out (then killed)
  std::vector<TimedLine> lines;  // stdout and stderr merged
};

// argv[0] is a path (not searched in PATH). The child gets SIGKILL if it outlives timeout or this
// process.
TimedResult run_timed(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

}  // namespace edd::bench
