// Rule: etcd-defrag's --defrag-rule language ("dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024"),
// parsed and type-checked once, then evaluated per member. Immutable: copies share the parsed
// form, and evaluate() may be called from many threads at once.
//
// Variables: dbSize, dbSizeInUse, dbSizeFree (dbSize - dbSizeInUse), dbQuota, dbQuotaUsage
// (dbSize / dbQuota). Operators, loosest first: ||, &&, == != < > <= >=, + -, * / %, unary ! -;
// all left-associative. Numbers are float64; literals are digits with an optional fraction
// ("200", "0.8"): ".5", "1." and exponents ("1e3") are rejected. '%' takes whole numbers only.
// An empty or all-whitespace rule is always true. Columns are 1-based and count bytes from the
// start of the rule (a newline counts as one).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "rule/fault.h"

namespace edd::rule {

// Longer rules are rejected; real rules are a line or two.
inline constexpr std::size_t kMaxRuleLength = 4096;

struct Inputs {  // one member's figures, in bytes
  double db_size = 0;
  double db_size_in_use = 0;
  double db_quota = 0;
};

class Rule {
 public:
  Rule();  // the empty rule: always true

  // kInvalidArgument: `invalid rule "dbSize >> 3": column 8: unexpected '>' (...)`.
  static Result<Rule> parse(std::string_view text);

  // Why `text` is not a valid rule, with the column; nullopt when it is. For callers that place
  // the fault in a larger source (a config file's line and column).
  static std::optional<Fault> diagnose(std::string_view text);

  // kInvalidArgument for this member: `division by zero in rule "dbSize/0 > 1" at column 7`,
  // also modulo by zero, a fractional '%' operand, overflow, a non-finite input.
  Result<bool> evaluate(const Inputs& in) const;

  bool is_always() const;  // the rule is empty
  const std::string& text() const;

 private:
  struct State;
  explicit Rule(std::shared_ptr<const State> state);

  std::shared_ptr<const State> state_;  // null for the default (empty) rule
};

}  // namespace edd::rule
