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
  std::string min_reclaim = "0";  // the reclaim floor to show against; 0: none

  void add_to(CLI::App& app);
  // Exit code: 0 all members answered, 1 any did not, 2 bad usage.
  int run() const;
};

}  // namespace edd::cli
