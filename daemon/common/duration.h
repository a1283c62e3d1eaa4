// Durations written as Go writes them ("500ms", "1m30s", "2h"), the syntax etcd-defrag and
// etcdctl users already type. Pure functions, thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace edd {

// Parses Go's time.ParseDuration syntax: a sequence of decimal numbers with units
// ns, us, µs, ms, s, m, h; an optional sign; a lone "0".
Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// Formats like Go's time.Duration.String(): "1m30s", "500ms", "0s".
std::string format_go_duration(std::chrono::nanoseconds d);

}  // namespace edd
