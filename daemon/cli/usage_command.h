// `etcd-defragd usage`: what fills the database — keys, value bytes and revisions by prefix,
// read from one member in paced, serializable pages.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "cli/connection_flags.h"

namespace edd::cli {

struct UsageCommand {
  ConnectionFlags connection;
  std::string write_out = "table";
  std::string prefix;
  std::string by = "resource";
  int depth = 0;
  int top = 20;
  std::int64_t page_size = 1000;
  double rate = 20000;  // keys per second, 0 = unpaced
  bool revisions = false;

  void add_to(CLI::App& app);
  // Exit code: 0 scanned, 1 the scan failed, 2 bad usage.
  int run() const;
};

}  // namespace edd::cli
