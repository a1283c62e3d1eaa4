// Parser: rule text to a type-checked Program, by recursive descent with Go/C precedence
// (|| < && < comparisons < + - < * / % < unary ! -), all binary operators left-associative.
// Pure, thread-safe; nesting is bounded so hostile input cannot exhaust the stack.
#pragma once

#include <cstddef>
#include <string_view>
#include <variant>

#include "rule/fault.h"
#include "rule/program.h"

namespace edd::rule {

// Parentheses and prefix operators nested deeper than this are rejected.
inline constexpr std::size_t kMaxDepth = 200;

// An empty or all-whitespace text gives an empty Program (always true). Anything that does not
// parse, names an unknown variable, mixes numbers with true/false, or is not true/false as a
// whole gives the Fault at the first offending column.
std::variant<Program, Fault> parse_program(std::string_view text);

}  // namespace edd::rule
