// Finds where a byte of a TOML string value was written in the source text, so a fault inside
// a value (a rule's bad token) gets its own line:column. Pure functions, thread-safe.
//
// Columns count Unicode code points from 1, as toml++'s source() regions do; a UTF-8 byte-order
// mark does not count. Exact for all four TOML string forms, escapes and line-ending backslashes
// included; a byte produced by an escape sequence maps to the escape's backslash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace edd::config {

struct SourcePosition {
  std::uint32_t line = 0;  // 1-based; 0 = unknown
  std::uint32_t column = 0;
};

// `value` is where toml++ says the string starts (its opening quote); `offset` is a byte offset
// into the decoded string (0 = its first byte; its length = the closing quote). nullopt when
// `value` does not point at a string in `document`.
std::optional<SourcePosition> locate_in_string(std::string_view document, SourcePosition value,
                                               std::size_t offset);

}  // namespace edd::config
