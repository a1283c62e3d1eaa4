// `etcd-defragd status`: every member's status as a table or JSON.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>

#include "cli/connection_flags.h"

namespace edd::cli {

struct StatusCommand {
  ConnectionFlags connection;
  std::string write_out = "table";

  void add_to(CLI::App& app);
  // Exit code: 0 all members answered, 1 any did not, 2 bad usage.
  int run() const;
};

}  // namespace edd::cli
