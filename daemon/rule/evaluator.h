// Evaluator: runs a parsed Program against one member's figures. Every failure (division or
// modulo by zero, a fractional '%' operand, overflow, a non-finite input) is a Fault, never
// inf or NaN. Pure and stateless: thread-safe, one Program may be run from many threads.
#pragma once

#include <variant>

#include "rule/fault.h"
#include "rule/program.h"
#include "rule/rule.h"

namespace edd::rule {

// An empty program is true.
std::variant<bool, Fault> run_program(const Program& program, const Inputs& in);

}  // namespace edd::rule
