// Where the daemon's HTTP listener binds: "host:port", "[v6]:port". Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace edd::config {

struct ListenAddress {
  std::string host;        // an IPv4 address, a host name, or an IPv6 address without brackets
  std::uint16_t port = 0;  // 0 = any free port (tests)

  std::string text() const;  // "127.0.0.1:9479", "[::1]:9479"
  bool is_loopback() const;
  bool operator==(const ListenAddress&) const = default;
};

// kInvalidArgument: `invalid listen address "::1:9479": IPv6 addresses need [brackets] ...`.
// A host is required: "0.0.0.0:9479" or "[::]:9479" listens on every interface.
Result<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace edd::config
