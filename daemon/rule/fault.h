// Fault: where a rule went wrong (1-based column, counted in bytes from the start of the rule)
// and why, without the rule text around it. A plain value, thread-safe to copy.
#pragma once

#include <cstddef>
#include <string>

namespace edd::rule {

struct Fault {
  std::size_t column = 0;
  std::string reason;  // one line, e.g. "unexpected '>'"
};

}  // namespace edd::rule
