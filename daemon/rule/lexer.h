// Lexer: splits rule text into tokens, rejecting characters and number forms the language lacks.
// Numbers are digits with an optional fraction ("200", "0.8"); ".5", "1." and exponents ("1e3")
// are rejected with a column. Whitespace is space, tab, CR and LF. Pure, thread-safe.
#pragma once

#include <cstddef>
#include <string_view>
#include <variant>
#include <vector>

#include "rule/fault.h"

namespace edd::rule {

enum class TokenKind {
  kNumber,
  kIdentifier,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kEqual,         // ==
  kNotEqual,      // !=
  kLess,          // <
  kGreater,       // >
  kLessEqual,     // <=
  kGreaterEqual,  // >=
  kAnd,           // &&
  kOr,            // ||
  kNot,           // !
  kLeftParen,
  kRightParen,
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;   // points into the lexed text; empty for kEnd
  std::size_t column = 0;  // 1-based; for kEnd, one past the last character
  double number = 0;       // kNumber
};

// The tokens of `text`, always ending with one kEnd token; or the first fault.
std::variant<std::vector<Token>, Fault> lex(std::string_view text);

}  // namespace edd::rule
