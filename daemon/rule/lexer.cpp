#include "rule/lexer.h"

#include <charconv>
#include <cstdio>
#include <string>
#include <system_error>

namespace edd::rule {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// 'x' for printable ASCII, byte 0xNN otherwise, so the message stays one readable line.
std::string describe(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02X",
                static_cast<unsigned>(static_cast<unsigned char>(c)));
  return buf;
}

Fault fault_at(std::size_t index, std::string reason) { return {index + 1, std::move(reason)}; }

// The lexer's state: the text and how far it has got.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  std::variant<std::vector<Token>, Fault> run() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
      if (pos_ == text_.size()) break;
      auto token = next();
      if (auto* fault = std::get_if<Fault>(&token)) return std::move(*fault);
      tokens.push_back(std::get<Token>(token));
    }
    tokens.push_back(Token{TokenKind::kEnd, {}, text_.size() + 1, 0});
    return tokens;
  }

 private:
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  Token take(TokenKind kind, std::size_t length) {
    Token t{kind, text_.substr(pos_, length), pos_ + 1, 0};
    pos_ += length;
    return t;
  }

  std::variant<Token, Fault> next() {
    const char c = peek();
    if (is_digit(c)) return number();
    if (is_ident_start(c)) {
      std::size_t n = 1;
      while (is_ident_char(peek(n))) ++n;
      return take(TokenKind::kIdentifier, n);
    }
    const char c2 = peek(1);
    switch (c) {
      case '+':
        return take(TokenKind::kPlus, 1);
      case '-':
        return take(TokenKind::kMinus, 1);
      case '*':
        return take(TokenKind::kStar, 1);
      case '/':
        return take(TokenKind::kSlash, 1);
      case '%':
        return take(TokenKind::kPercent, 1);
      case '(':
        return take(TokenKind::kLeftParen, 1);
      case ')':
        return take(TokenKind::kRightParen, 1);
      case '=':
        if (c2 == '=') return take(TokenKind::kEqual, 2);
        return fault_at(pos_, "unexpected '='; compare with '=='");
      case '!':
        if (c2 == '=') return take(TokenKind::kNotEqual, 2);
        return take(TokenKind::kNot, 1);
      case '<':
      case '>':
        // govaluate has shifts; we do not, and "a >> b" must not read as "a > (> b)".
        if (c2 == c)
          return fault_at(
              pos_, describe(c).insert(0, "unexpected ") + " (shift operators are not supported)");
        if (c2 == '=') return take(c == '<' ? TokenKind::kLessEqual : TokenKind::kGreaterEqual, 2);
        return take(c == '<' ? TokenKind::kLess : TokenKind::kGreater, 1);
      case '&':
        if (c2 == '&') return take(TokenKind::kAnd, 2);
        return fault_at(pos_, "unexpected '&'; use '&&' for and");
      case '|':
        if (c2 == '|') return take(TokenKind::kOr, 2);
        return fault_at(pos_, "unexpected '|'; use '||' for or");
      case '.':
        if (is_digit(c2))
          return fault_at(pos_, "unexpected '.'; write a digit before it, as in 0.5");
        break;
      default:
        break;
    }
    return fault_at(pos_, "unexpected " + describe(c));
  }

  std::variant<Token, Fault> number() {
    std::size_t n = 0;
    while (is_digit(peek(n))) ++n;
    if (peek(n) == '.') {
      if (!is_digit(peek(n + 1))) {
        return fault_at(pos_ + n, "a decimal point must be followed by digits, as in 1.0");
      }
      ++n;
      while (is_digit(peek(n))) ++n;
    }
    const char after = peek(n);
    if (after == 'e' || after == 'E') {
      return fault_at(pos_ + n, "exponents are not supported; write the number out, as in 1000");
    }
    if (is_ident_char(after) || after == '.') {
      return fault_at(pos_ + n, "unexpected " + describe(after) + " after a number");
    }
    const std::string_view digits = text_.substr(pos_, n);
    double value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      return fault_at(pos_, "number " + std::string(digits.substr(0, 20)) +
                                (digits.size() > 20 ? "..." : "") + " is out of range");
    }
    Token t = take(TokenKind::kNumber, n);
    t.number = value;
    return t;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::variant<std::vector<Token>, Fault> lex(std::string_view text) { return Lexer(text).run(); }

}  // namespace edd::rule
