// Runs our own binary (the one just built) the way a user would, and reads its JSON output.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "harness/process.h"

namespace edd::test {

inline CommandResult run_edd(std::vector<std::string> args,
                             std::chrono::seconds timeout = std::chrono::seconds(120)) {
  args.insert(args.begin(), EDD_BINARY);
  return run_command(args, timeout);
}

inline boost::json::value parse_json(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) throw std::runtime_error("not JSON (" + ec.message() + "): " + text);
  return v;
}

// etcd 3.4 prints member IDs in decimal in JSON, in hex in tables; we print hex.
inline std::string hex(std::uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace edd::test
