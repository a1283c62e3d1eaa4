// GET /v1/status: what the last poll saw, who acts, and the last run, as one JSON document.
#pragma once

#include <chrono>
#include <string>

#include "service/daemon_loop.h"

namespace edd::service {

std::string status_json(const DaemonLoop& loop, std::chrono::milliseconds min_interval);

}  // namespace edd::service
