// The last-run record's JSON in etcd, {"time":…,"result":…,"actor":…,"trigger":…}, as every
// version of the daemon writes and reads it. In its own library (Boost.JSON) that the app links
// and hands to the loop through LoopHooks; the loop and its tests do not link it.
#pragma once

#include <optional>
#include <string>

#include "service/last_run.h"

namespace edd::service {

std::string encode_last_run_json(const LastRun& run);
// nullopt when the value is not a JSON object; a missing or mistyped field keeps its default.
std::optional<LastRun> decode_last_run_json(const std::string& text);

}  // namespace edd::service
