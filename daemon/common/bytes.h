// Human-readable sizes exactly as etcdctl prints them (go-humanize's SI units: "852 MB", "25 kB"),
// so our tables read like the runbook output operators know. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace edd {

std::string format_bytes_si(std::int64_t bytes);

}  // namespace edd
