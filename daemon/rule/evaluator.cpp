#include "rule/evaluator.h"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace edd::rule {
namespace {

// Shortest text that reads back as the same double, as Go's strconv prints it.
std::string format_number(double v) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, v);
  return {buf, result.ptr};
}

std::variant<double, Fault> input(std::string_view name, double v, std::size_t column) {
  if (std::isfinite(v)) return v;
  return Fault{column,
               "input " + std::string(name) + " is " + format_number(v) + ", not a finite number"};
}

std::variant<double, Fault> load(const Instruction& in, const Inputs& inputs) {
  const std::size_t col = in.column;
  switch (in.variable) {
    case Variable::kDbSize:
      return input("dbSize", inputs.db_size, col);
    case Variable::kDbSizeInUse:
      return input("dbSizeInUse", inputs.db_size_in_use, col);
    case Variable::kDbQuota:
      return input("dbQuota", inputs.db_quota, col);
    case Variable::kDbSizeFree: {
      auto size = input("dbSize", inputs.db_size, col);
      if (std::holds_alternative<Fault>(size)) return size;
      auto in_use = input("dbSizeInUse", inputs.db_size_in_use, col);
      if (std::holds_alternative<Fault>(in_use)) return in_use;
      return std::get<double>(size) - std::get<double>(in_use);
    }
    case Variable::kDbQuotaUsage: {
      auto size = input("dbSize", inputs.db_size, col);
      if (std::holds_alternative<Fault>(size)) return size;
      auto quota = input("dbQuota", inputs.db_quota, col);
      if (std::holds_alternative<Fault>(quota)) return quota;
      if (std::get<double>(quota) == 0) {
        return Fault{col, "division by zero (dbQuotaUsage is dbSize/dbQuota and dbQuota is 0)"};
      }
      return std::get<double>(size) / std::get<double>(quota);
    }
  }
  return Fault{col, "unknown variable"};  // unreachable: the parser only emits known ones
}

std::variant<double, Fault> arithmetic(const Instruction& in, double a, double b) {
  double r = 0;
  switch (in.op) {
    case Op::kAdd:
      r = a + b;
      break;
    case Op::kSubtract:
      r = a - b;
      break;
    case Op::kMultiply:
      r = a * b;
      break;
    case Op::kDivide:
      if (b == 0) return Fault{in.column, "division by zero"};
      r = a / b;
      break;
    case Op::kModulo:
      if (b == 0) return Fault{in.column, "modulo by zero"};
      if (std::trunc(a) != a || std::trunc(b) != b) {
        return Fault{in.column, "'%' needs whole numbers, but got " + format_number(a) + " % " +
                                    format_number(b)};
      }
      r = std::fmod(a, b);  // exact for whole numbers; the sign follows a, as in Go and C
      break;
    case Op::kEqual:
      return a == b ? 1.0 : 0.0;
    case Op::kNotEqual:
      return a != b ? 1.0 : 0.0;
    case Op::kLess:
      return a < b ? 1.0 : 0.0;
    case Op::kGreater:
      return a > b ? 1.0 : 0.0;
    case Op::kLessEqual:
      return a <= b ? 1.0 : 0.0;
    case Op::kGreaterEqual:
      return a >= b ? 1.0 : 0.0;
    default:
      return Fault{in.column, "internal error: not a binary operator"};
  }
  if (!std::isfinite(r)) {
    return Fault{in.column, "arithmetic overflow (" + format_number(a) + " and " +
                                format_number(b) + " give " + format_number(r) + ")"};
  }
  return r;
}

}  // namespace

std::variant<bool, Fault> run_program(const Program& program, const Inputs& in) {
  const auto& code = program.code;
  if (code.empty()) return true;
  std::vector<double> stack;
  stack.reserve(program.max_stack);
  std::size_t pc = 0;
  while (pc < code.size()) {
    const Instruction& ins = code[pc++];
    switch (ins.op) {
      case Op::kPush:
        stack.push_back(ins.number);
        break;
      case Op::kLoad: {
        auto v = load(ins, in);
        if (auto* fault = std::get_if<Fault>(&v)) return std::move(*fault);
        stack.push_back(std::get<double>(v));
        break;
      }
      case Op::kNegate:
        stack.back() = -stack.back();
        break;
      case Op::kNot:
        stack.back() = stack.back() == 0 ? 1.0 : 0.0;
        break;
      case Op::kJumpIfFalse:
      case Op::kJumpIfTrue:
        if ((stack.back() != 0) == (ins.op == Op::kJumpIfTrue)) {
          pc = ins.target;
        } else {
          stack.pop_back();
        }
        break;
      default: {
        const double b = stack.back();
        stack.pop_back();
        auto v = arithmetic(ins, stack.back(), b);
        if (auto* fault = std::get_if<Fault>(&v)) return std::move(*fault);
        stack.back() = std::get<double>(v);
        break;
      }
    }
  }
  return stack.back() != 0;
}

}  // namespace edd::rule
