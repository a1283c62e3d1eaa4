// Program: a type-checked rule compiled to stack code, with jumps so && and || short-circuit.
// Built once by the parser, then read-only: thread-safe to share between evaluations.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace edd::rule {

enum class Variable { kDbSize, kDbSizeInUse, kDbSizeFree, kDbQuota, kDbQuotaUsage };

// The names etcd-defrag's --defrag-rule knows, spelled as it spells them.
inline constexpr std::array<std::string_view, 5> kVariableNames = {
    "dbSize", "dbSizeInUse", "dbSizeFree", "dbQuota", "dbQuotaUsage"};

std::optional<Variable> find_variable(std::string_view name);
std::string_view variable_name(Variable v);

enum class Op {
  kPush,    // push `number`
  kLoad,    // push the value of `variable`
  kNegate,  // unary -
  kNot,     // !
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kModulo,
  kEqual,
  kNotEqual,
  kLess,
  kGreater,
  kLessEqual,
  kGreaterEqual,
  kJumpIfFalse,  // top is false: keep it and jump to `target`; else pop it (&&)
  kJumpIfTrue,   // top is true: keep it and jump to `target`; else pop it (||)
};

struct Instruction {
  Op op = Op::kPush;
  std::size_t column = 0;                 // where the operator or operand is, for evaluation errors
  double number = 0;                      // kPush
  Variable variable = Variable::kDbSize;  // kLoad
  std::size_t target = 0;                 // jumps: index of the next instruction to run
};

// Booleans live on the stack as 1.0 and 0.0; the parser's type check keeps them apart from numbers.
struct Program {
  std::vector<Instruction> code;  // empty: the rule is always true
  std::size_t max_stack = 0;      // deepest the value stack gets
};

}  // namespace edd::rule
