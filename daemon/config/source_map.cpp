#include "config/source_map.h"

namespace edd::config {
namespace {

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

std::size_t encoded_length(std::uint32_t codepoint) {
  if (codepoint < 0x80) return 1;
  if (codepoint < 0x800) return 2;
  if (codepoint < 0x10000) return 3;
  return 4;
}

std::optional<std::uint32_t> parse_hex(std::string_view s) {
  std::uint32_t v = 0;
  for (const char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
  }
  return v;
}

// Walks the source from the opening quote, counting decoded bytes, lines and columns.
class Walker {
 public:
  Walker(std::string_view doc, std::size_t at, SourcePosition pos) : doc_(doc), i_(at), pos_(pos) {}

  bool starts_with(std::string_view s) const { return doc_.substr(i_).starts_with(s); }
  bool done() const { return i_ >= doc_.size(); }
  char peek(std::size_t ahead = 0) const {
    return i_ + ahead < doc_.size() ? doc_[i_ + ahead] : '\0';
  }
  SourcePosition position() const { return pos_; }

  // Advances over one code point (a newline moves to the next line).
  void step() {
    if (done()) return;
    if (doc_[i_] == '\n') {
      ++pos_.line;
      pos_.column = 1;
      ++i_;
      return;
    }
    i_ += utf8_length(static_cast<unsigned char>(doc_[i_]));
    ++pos_.column;
  }
  void step(std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) step();
  }
  std::size_t cp_bytes() const {
    return done() ? 0 : utf8_length(static_cast<unsigned char>(doc_[i_]));
  }
  std::string_view ahead(std::size_t n) const {
    return done() ? std::string_view() : doc_.substr(i_, n);
  }

 private:
  std::string_view doc_;
  std::size_t i_;
  SourcePosition pos_;
};

// The byte that toml++'s (line, column) names; its columns count code points.
std::optional<std::size_t> byte_at(std::string_view document, SourcePosition value) {
  if (value.line == 0 || value.column == 0) return std::nullopt;
  std::size_t byte = 0;
  for (std::uint32_t line = 1; line < value.line; ++line) {
    byte = document.find('\n', byte);
    if (byte == std::string_view::npos) return std::nullopt;
    ++byte;
  }
  if (value.line == 1 && document.starts_with("\xEF\xBB\xBF")) byte = 3;
  for (std::uint32_t col = 1; col < value.column; ++col) {
    if (byte >= document.size() || document[byte] == '\n') return std::nullopt;
    byte += utf8_length(static_cast<unsigned char>(document[byte]));
  }
  return byte;
}

struct StringKind {
  bool basic = false;  // "..." or """...""": escapes apply
  bool multi_line = false;
};

// Steps over the opening delimiter; nullopt when the value is not a string.
std::optional<StringKind> open_string(Walker& w) {
  StringKind kind;
  if (w.starts_with("\"\"\"")) {
    kind = {true, true};
  } else if (w.starts_with("'''")) {
    kind = {false, true};
  } else if (w.starts_with("\"")) {
    kind = {true, false};
  } else if (!w.starts_with("'")) {
    return std::nullopt;
  }
  w.step(kind.multi_line ? 3 : 1);
  if (kind.multi_line) {  // a newline right after the opening delimiter is not part of the string
    if (w.peek() == '\n') {
      w.step();
    } else if (w.peek() == '\r' && w.peek(1) == '\n') {
      w.step(2);
    }
  }
  return kind;
}

bool is_toml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// One character of the source as the decoded string sees it: the code points it takes and the
// bytes it gives.
struct Unit {
  std::size_t steps = 1;
  std::size_t produced = 1;
};

// An escape of a basic string; nullopt when it is malformed.
std::optional<Unit> escape_at(const Walker& w) {
  const char next = w.peek(1);
  if (next != 'u' && next != 'U') return Unit{2, 1};
  const std::size_t digits = next == 'u' ? 4 : 8;
  const std::string_view escape = w.ahead(2 + digits);
  if (escape.size() != 2 + digits) return std::nullopt;
  const auto cp = parse_hex(escape.substr(2));
  if (!cp) return std::nullopt;
  return Unit{2 + digits, encoded_length(*cp)};
}

std::optional<Unit> next_unit(const Walker& w, StringKind kind) {
  const char c = w.peek();
  if (kind.basic && c == '\\') return escape_at(w);
  if (kind.multi_line && c == '\r' && w.peek(1) == '\n') return Unit{2, 1};  // toml++: "\n"
  return Unit{1, w.cp_bytes()};
}

// Walks until `offset` decoded bytes are behind, or to the character or escape they end in.
std::optional<SourcePosition> walk_decoded(Walker& w, StringKind kind, std::size_t offset) {
  std::size_t decoded = 0;
  while (decoded < offset && !w.done()) {
    if (kind.basic && kind.multi_line && w.peek() == '\\' && is_toml_space(w.peek(1))) {
      w.step();  // a line-ending backslash trims itself and all whitespace after it
      while (is_toml_space(w.peek())) w.step();
      continue;
    }
    const auto unit = next_unit(w, kind);
    if (!unit) return std::nullopt;
    if (decoded + unit->produced > offset) break;  // the fault is inside this one
    decoded += unit->produced;
    w.step(unit->steps);
  }
  return w.position();
}

}  // namespace

std::optional<SourcePosition> locate_in_string(std::string_view document, SourcePosition value,
                                               std::size_t offset) {
  const auto byte = byte_at(document, value);
  if (!byte) return std::nullopt;
  Walker w(document, *byte, value);
  const auto kind = open_string(w);
  if (!kind) return std::nullopt;
  return walk_decoded(w, *kind, offset);
}

}  // namespace edd::config
