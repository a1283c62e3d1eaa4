#include "rule/parser.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rule/lexer.h"

namespace edd::rule {
namespace {

enum class Type { kNumber, kBool };

// What a parsed sub-expression yields and where it starts.
struct Expr {
  Type type = Type::kNumber;
  std::size_t column = 0;
};

std::string_view type_name(Type t) { return t == Type::kNumber ? "a number" : "true/false"; }

std::string quoted(const Token& t) {
  // Appended piecewise: GCC 12 at -O3 misreads "'" + std::string(...) as overlapping (-Wrestrict).
  std::string out;
  out.reserve(t.text.size() + 2);
  out += '\'';
  out += t.text;
  out += '\'';
  return out;
}

std::string known_variables() {
  std::string out;
  for (const auto name : kVariableNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  std::variant<Program, Fault> run() {
    if (peek().kind == TokenKind::kEnd) return Program{};
    const auto expr = parse_or();
    if (!expr) return std::move(*fault_);
    const Token& t = peek();
    if (t.kind == TokenKind::kRightParen) {
      return Fault{t.column, "unexpected ')' without a matching '('"};
    }
    if (t.kind != TokenKind::kEnd) {
      return Fault{t.column,
                   "unexpected " + quoted(t) + "; expected an operator or the end of the rule"};
    }
    if (expr->type != Type::kBool) {
      return Fault{expr->column,
                   "the rule must be true or false (a comparison such as dbSize > 0), "
                   "but it is a number"};
    }
    return std::move(program_);
  }

 private:
  // Counts one level of nesting for as long as it lives.
  class Nest {
   public:
    explicit Nest(std::size_t& depth) : depth_(depth) { ++depth_; }
    ~Nest() { --depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;
    bool too_deep() const { return depth_ > kMaxDepth; }

   private:
    std::size_t& depth_;
  };

  const Token& peek() const { return tokens_[pos_]; }
  const Token& advance() { return tokens_[pos_++]; }

  std::nullopt_t fail(std::size_t column, std::string reason) {
    fault_ = Fault{column, std::move(reason)};
    return std::nullopt;
  }

  std::nullopt_t fail_too_deep(const Token& t) {
    return fail(t.column, "nested too deeply (more than " + std::to_string(kMaxDepth) +
                              " levels of parentheses and prefix operators)");
  }

  // Appends an instruction and tracks how deep the value stack gets.
  Instruction& emit(Op op, std::size_t column, int stack_change) {
    Instruction in;
    in.op = op;
    in.column = column;
    program_.code.push_back(in);
    stack_ = static_cast<std::size_t>(static_cast<long>(stack_) + stack_change);
    program_.max_stack = std::max(program_.max_stack, stack_);
    return program_.code.back();
  }

  // Checks that a binary operator's operand has the type it needs.
  bool operand_ok(const Token& op, Type want, Type got, std::string_view side) {
    if (got == want) return true;
    fail(op.column, quoted(op) + " needs " + (want == Type::kNumber ? "numbers" : "true/false") +
                        " on both sides, but the " + std::string(side) + " side is " +
                        std::string(type_name(got)));
    return false;
  }

  // || and && share this shape: left, a short-circuit jump, right.
  std::optional<Expr> parse_logical(TokenKind kind, Op jump,
                                    std::optional<Expr> (Parser::*operand)()) {
    auto left = (this->*operand)();
    if (!left) return std::nullopt;
    while (peek().kind == kind) {
      const Token& op = advance();
      if (!operand_ok(op, Type::kBool, left->type, "left")) return std::nullopt;
      emit(jump, op.column, -1);
      const std::size_t jump_at = program_.code.size() - 1;
      const auto right = (this->*operand)();
      if (!right) return std::nullopt;
      if (!operand_ok(op, Type::kBool, right->type, "right")) return std::nullopt;
      program_.code[jump_at].target = program_.code.size();
    }
    return left;
  }

  std::optional<Expr> parse_or() {
    return parse_logical(TokenKind::kOr, Op::kJumpIfTrue, &Parser::parse_and);
  }

  std::optional<Expr> parse_and() {
    return parse_logical(TokenKind::kAnd, Op::kJumpIfFalse, &Parser::parse_comparison);
  }

  std::optional<Expr> parse_comparison() {
    auto left = parse_additive();
    if (!left) return std::nullopt;
    while (true) {
      Op code;
      switch (peek().kind) {
        case TokenKind::kEqual:
          code = Op::kEqual;
          break;
        case TokenKind::kNotEqual:
          code = Op::kNotEqual;
          break;
        case TokenKind::kLess:
          code = Op::kLess;
          break;
        case TokenKind::kGreater:
          code = Op::kGreater;
          break;
        case TokenKind::kLessEqual:
          code = Op::kLessEqual;
          break;
        case TokenKind::kGreaterEqual:
          code = Op::kGreaterEqual;
          break;
        default:
          return left;
      }
      const Token& op = advance();
      const bool equality = code == Op::kEqual || code == Op::kNotEqual;
      if (!equality && !operand_ok(op, Type::kNumber, left->type, "left")) return std::nullopt;
      const auto right = parse_additive();
      if (!right) return std::nullopt;
      if (!equality && !operand_ok(op, Type::kNumber, right->type, "right")) return std::nullopt;
      if (equality && left->type != right->type) {
        return fail(op.column, quoted(op) +
                                   " needs the same kind on both sides, but the left side is " +
                                   std::string(type_name(left->type)) + " and the right side is " +
                                   std::string(type_name(right->type)));
      }
      emit(code, op.column, -1);
      left->type = Type::kBool;
    }
  }

  // + - and * / % share this shape.
  std::optional<Expr> parse_arithmetic(std::optional<Expr> (Parser::*operand)(),
                                       bool multiplicative) {
    auto left = (this->*operand)();
    if (!left) return std::nullopt;
    while (true) {
      Op code;
      switch (peek().kind) {
        case TokenKind::kPlus:
          code = Op::kAdd;
          break;
        case TokenKind::kMinus:
          code = Op::kSubtract;
          break;
        case TokenKind::kStar:
          code = Op::kMultiply;
          break;
        case TokenKind::kSlash:
          code = Op::kDivide;
          break;
        case TokenKind::kPercent:
          code = Op::kModulo;
          break;
        default:
          return left;
      }
      const bool is_multiplicative = code != Op::kAdd && code != Op::kSubtract;
      if (is_multiplicative != multiplicative) return left;
      const Token& op = advance();
      if (!operand_ok(op, Type::kNumber, left->type, "left")) return std::nullopt;
      const auto right = (this->*operand)();
      if (!right) return std::nullopt;
      if (!operand_ok(op, Type::kNumber, right->type, "right")) return std::nullopt;
      emit(code, op.column, -1);
    }
  }

  std::optional<Expr> parse_additive() {
    return parse_arithmetic(&Parser::parse_multiplicative, false);
  }

  std::optional<Expr> parse_multiplicative() {
    return parse_arithmetic(&Parser::parse_unary, true);
  }

  std::optional<Expr> parse_unary() {
    const TokenKind kind = peek().kind;
    if (kind != TokenKind::kNot && kind != TokenKind::kMinus) return parse_primary();
    const Token& op = advance();
    const Nest nest(depth_);
    if (nest.too_deep()) return fail_too_deep(op);
    const auto operand = parse_unary();
    if (!operand) return std::nullopt;
    if (kind == TokenKind::kNot && operand->type != Type::kBool) {
      return fail(op.column, "'!' needs true/false, but its operand is a number");
    }
    if (kind == TokenKind::kMinus && operand->type != Type::kNumber) {
      return fail(op.column, "unary '-' needs a number, but its operand is true/false");
    }
    emit(kind == TokenKind::kNot ? Op::kNot : Op::kNegate, op.column, 0);
    return Expr{operand->type, op.column};
  }

  std::optional<Expr> parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case TokenKind::kNumber:
        advance();
        emit(Op::kPush, t.column, +1).number = t.number;
        return Expr{Type::kNumber, t.column};
      case TokenKind::kIdentifier: {
        const auto variable = find_variable(t.text);
        if (!variable) {
          return fail(t.column, "unknown variable \"" + std::string(t.text) +
                                    "\" (known: " + known_variables() + ")");
        }
        advance();
        emit(Op::kLoad, t.column, +1).variable = *variable;
        return Expr{Type::kNumber, t.column};
      }
      case TokenKind::kLeftParen:
        return parse_parenthesised();
      case TokenKind::kEnd:
        return fail(t.column, "missing operand after " + quoted(tokens_[pos_ - 1]));
      default:
        return fail(t.column, "unexpected " + quoted(t) + "; expected a number, a variable or '('");
    }
  }

  std::optional<Expr> parse_parenthesised() {
    const Token& open = advance();
    const Nest nest(depth_);
    if (nest.too_deep()) return fail_too_deep(open);
    const auto inner = parse_or();
    if (!inner) return std::nullopt;
    const Token& close = peek();
    const std::string which = "the '(' at column " + std::to_string(open.column);
    if (close.kind == TokenKind::kEnd) return fail(close.column, "missing ')' to close " + which);
    if (close.kind != TokenKind::kRightParen) {
      return fail(close.column, "unexpected " + quoted(close) +
                                    "; expected an operator or ')' to close " + which);
    }
    advance();
    return Expr{inner->type, open.column};
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::size_t stack_ = 0;
  Program program_;
  std::optional<Fault> fault_;
};

}  // namespace

std::variant<Program, Fault> parse_program(std::string_view text) {
  auto tokens = lex(text);
  if (auto* fault = std::get_if<Fault>(&tokens)) return std::move(*fault);
  return Parser(std::get<std::vector<Token>>(std::move(tokens))).run();
}

}  // namespace edd::rule
