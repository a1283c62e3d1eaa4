// Loads the daemon's TOML config (toml++) into a validated Config, collecting every problem in one
// pass as `file:line:col: key: why` lines (key = the dotted path, e.g. policy.poll_interval).
// A bad rule's column points into the rule string at the fault (source_map.h). Reads only the
// config and checks the files it names; never quotes a secret. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace edd::config {

// Config files are a few KiB; anything larger is refused before parsing.
inline constexpr std::size_t kMaxConfigBytes = std::size_t{1024} * 1024;

struct LoadResult {
  std::optional<Config> config;  // set exactly when errors is empty
  // One line each, in file order. A file that cannot be read at all: `path: cannot read ...`.
  std::vector<std::string> errors;
  // Same format: a secret readable by others, a lock TTL shorter than a long defrag, ...
  std::vector<std::string> warnings;
};

LoadResult load_config_file(const std::string& path);
// `source_name` is the file name used in messages and Config::source.
LoadResult load_config_string(std::string_view toml, const std::string& source_name);

}  // namespace edd::config
