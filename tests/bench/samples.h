// Latency samples recorded by the benchmark's clients and the few statistics its report needs.
// Plain values and pure functions: no shared state.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "support/clocks.h"

namespace edd::bench {

// Seconds since the epoch on the system clock: the same scale as etcd's zap log timestamps, so a
// request can be placed inside a member's "starting defragment" .. "finished defragment" window.
using edd::test::wall_now_s;

struct Sample {
  double start_s = 0;     // when the request was sent (wall_now_s)
  double latency_ms = 0;  // until its answer (or its failure), on the steady clock
  int member = -1;        // the member whose endpoint served it
  bool ok = true;
};

struct ErrorNote {
  double at_s = 0;
  int member = -1;
  std::string message;  // "<gRPC code name>: <message>"
};

// A closed interval of wall time.
struct Window {
  double begin_s = 0;
  double end_s = 0;
  double seconds() const { return end_s - begin_s; }
};

// The request was in flight at some moment of the window: a client stalled by a defrag started
// before or during it and answered during or after it.
bool overlaps(const Sample& sample, const Window& window);

struct LatencyStats {
  std::size_t count = 0;
  std::size_t failed = 0;
  double max_ms = 0;
  double p99_ms = 0;
};

// Over the samples that overlap the window and match the filter (all when the filter is empty).
LatencyStats stats_in(const std::vector<Sample>& samples, const Window& window,
                      const std::function<bool(const Sample&)>& filter = {});

// Samples that started inside the window.
std::vector<Sample> started_in(const std::vector<Sample>& samples, const Window& window);

}  // namespace edd::bench
