#include "config/toml_reader.h"

#include <algorithm>
#include <cstdio>

#include "common/duration.h"
#include "config/file_access.h"

namespace edd::config {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxWhyBytes = 400;

}  // namespace

// Control characters escaped so every message stays one line.
std::string escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(u));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

// At most `max` bytes, cut on a UTF-8 boundary, with "..." when cut.
std::string clip(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

}  // namespace

std::string quoted(std::string_view value) { return "\"" + clip(escape(value), 80) + "\""; }

namespace {

// A key as TOML would accept it bare, or quoted.
std::string display_key(std::string_view k) {
  const bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
  return bare ? std::string(k) : quoted(k);
}

}  // namespace

std::string type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The closest of `names` to `word`, when it is close enough to be a typo.
std::string_view closest(std::string_view word, const std::vector<std::string_view>& names) {
  if (word.size() > 64) return {};
  std::string_view best;
  std::size_t best_distance = 3;  // at most two edits
  for (const auto n : names) {
    const std::size_t d = edit_distance(word, n);
    if (d < best_distance) {
      best = n;
      best_distance = d;
    }
  }
  return best;
}

std::string join_sections(const std::vector<Section>& schema) {
  std::string out;
  for (const auto& s : schema) out += (out.empty() ? "[" : ", [") + std::string(s.name) + "]";
  return out;
}

}  // namespace

SourcePosition TomlReader::position(const toml::source_region& r) {
  return {r.begin.line, r.begin.column};
}

std::vector<std::string> TomlReader::finish(std::vector<Message>& messages) const {
  std::stable_sort(messages.begin(), messages.end(), [](const Message& a, const Message& b) {
    return std::pair(a.at.line, a.at.column) < std::pair(b.at.line, b.at.column);
  });
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m.text);
  return out;
}

std::string TomlReader::format(SourcePosition at, std::string_view key,
                               std::string_view why) const {
  std::string where = source_;
  if (at.line > 0) where += ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
  return escape(where) + ": " + clip(escape(key), 200) + ": " + clip(escape(why), kMaxWhyBytes);
}

void TomlReader::error(SourcePosition at, std::string_view key, std::string_view why) {
  failed_.insert(std::string(key));
  errors_.push_back({at, format(at, key, why)});
}

void TomlReader::warning(SourcePosition at, std::string_view key, std::string_view why) {
  warnings_.push_back({at, format(at, key, why)});
}

std::string TomlReader::path(std::string_view section, std::string_view key) {
  return std::string(section) + "." + std::string(key);
}

SourcePosition TomlReader::where(const std::string& key) const {
  const auto it = seen_.find(key);
  return it == seen_.end() ? SourcePosition{} : it->second;
}

bool TomlReader::ok(const std::string& key) const { return failed_.count(key) == 0; }

void TomlReader::wrong_type(const toml::node& n, const std::string& key,
                            std::string_view expected) {
  error(position(n.source()), key,
        "expected " + std::string(expected) + ", got " + type_name(n.type()));
}

// ---- unknown keys and sections ----

void TomlReader::check_root(const toml::table& root) {
  for (const auto& [k, node] : root) {
    const std::string name(k.str());
    SourcePosition at = position(k.source());
    if (at.line == 0) at = position(node.source());
    const auto& sections = schema_;
    const auto known = std::find_if(sections.begin(), sections.end(),
                                    [&](const Section& s) { return s.name == name; });
    if (known != sections.end()) {
      if (!node.is_table()) {
        error(at, name, "expected a table ([" + name + "]), got " + type_name(node.type()));
      }
      continue;
    }
    if (node.is_table()) {
      std::vector<std::string_view> names;
      for (const auto& s : sections) names.push_back(s.name);
      std::string why = "unknown section";
      if (const auto guess = closest(name, names); !guess.empty()) {
        why += " (did you mean [" + std::string(guess) + "]?)";
      } else {
        why += " (known: " + join_sections(schema_) + ")";
      }
      error(at, display_key(name), why);
      continue;
    }
    std::string why = "unknown key";
    for (const auto& s : sections) {
      if (std::find(s.keys.begin(), s.keys.end(), name) != s.keys.end()) {
        why += "; it belongs in [" + std::string(s.name) + "]";
        break;
      }
    }
    if (why == "unknown key") why += " outside any section (known: " + join_sections(schema_) + ")";
    error(at, display_key(name), why);
  }
}

void TomlReader::check_keys(const toml::table& t, const Section& section) {
  for (const auto& [k, node] : t) {
    const std::string name(k.str());
    if (std::find(section.keys.begin(), section.keys.end(), name) != section.keys.end()) continue;
    SourcePosition at = position(k.source());
    if (at.line == 0) at = position(node.source());
    std::string why = "unknown key";
    if (section.name == "etcd" && name == "password") {
      why += "; put the password in a file (mode 0600) and set etcd.password_file";
    } else if (const auto guess = closest(name, section.keys); !guess.empty()) {
      why += " (did you mean " + std::string(guess) + "?)";
    } else {
      bool elsewhere = false;
      for (const auto& other : schema_) {
        if (std::find(other.keys.begin(), other.keys.end(), name) != other.keys.end()) {
          why += "; it belongs in [" + std::string(other.name) + "]";
          elsewhere = true;
          break;
        }
      }
      if (!elsewhere) {
        std::string list;
        for (const auto key : section.keys) list += (list.empty() ? "" : ", ") + std::string(key);
        why += " (known: " + list + ")";
      }
    }
    error(at, std::string(section.name) + "." + display_key(name), why);
  }
}

// ---- typed access: absent -> nullopt silently; wrong type -> an error and nullopt ----

const toml::node* TomlReader::lookup(const toml::table* t, std::string_view section,
                                     std::string_view key) {
  if (t == nullptr) return nullptr;
  const toml::node* n = t->get(key);
  if (n != nullptr) seen_[path(section, key)] = position(n->source());
  return n;
}

std::optional<std::string> TomlReader::string_at(const toml::node& n, const std::string& key,
                                                 std::string_view expected) {
  if (const auto* s = n.as_string()) return s->get();
  wrong_type(n, key, expected);
  return std::nullopt;
}

std::optional<std::string> TomlReader::str(const toml::table* t, std::string_view section,
                                           std::string_view key) {
  const toml::node* n = lookup(t, section, key);
  if (n == nullptr) return std::nullopt;
  return string_at(*n, path(section, key));
}

// A short string that will be echoed in messages.
std::optional<std::string> TomlReader::word(const toml::table* t, std::string_view section,
                                            std::string_view key) {
  auto s = str(t, section, key);
  if (s && s->size() > kMaxValueBytes) {
    error(where(path(section, key)), path(section, key),
          "is " + std::to_string(s->size()) + " bytes long; the limit is " +
              std::to_string(kMaxValueBytes));
    return std::nullopt;
  }
  return s;
}

std::optional<bool> TomlReader::boolean(const toml::table* t, std::string_view section,
                                        std::string_view key) {
  const toml::node* n = lookup(t, section, key);
  if (n == nullptr) return std::nullopt;
  if (const auto* b = n->as_boolean()) return b->get();
  wrong_type(*n, path(section, key), "true or false");
  return std::nullopt;
}

std::optional<std::int64_t> TomlReader::integer(const toml::table* t, std::string_view section,
                                                std::string_view key) {
  const toml::node* n = lookup(t, section, key);
  if (n == nullptr) return std::nullopt;
  if (const auto* i = n->as_integer()) return i->get();
  wrong_type(*n, path(section, key), "an integer");
  return std::nullopt;
}

std::optional<double> TomlReader::number(const toml::table* t, std::string_view section,
                                         std::string_view key) {
  const toml::node* n = lookup(t, section, key);
  if (n == nullptr) return std::nullopt;
  if (const auto* f = n->as_floating_point()) return f->get();
  if (const auto* i = n->as_integer()) return static_cast<double>(i->get());
  wrong_type(*n, path(section, key), "a number");
  return std::nullopt;
}

// A Go duration string within [min, max].
std::optional<milliseconds> TomlReader::duration(const toml::table* t, std::string_view section,
                                                 std::string_view key, nanoseconds min,
                                                 nanoseconds max) {
  const toml::node* n = lookup(t, section, key);
  if (n == nullptr) return std::nullopt;
  const std::string p = path(section, key);
  auto text = string_at(*n, p, "a duration string such as \"30s\"");
  if (!text) return std::nullopt;
  const SourcePosition at = position(n->source());
  if (text->size() > kMaxValueBytes) {
    error(at, p, "is " + std::to_string(text->size()) + " bytes long; not a duration");
    return std::nullopt;
  }
  auto d = parse_go_duration(*text);
  if (!d) {
    error(at, p, d.error().message);
    return std::nullopt;
  }
  if (*d < min) {
    const bool positive = min == 1ms && d->count() <= 0;
    error(at, p,
          (positive ? std::string("must be greater than 0")
                    : "must be at least " + format_go_duration(min)) +
              ", got " + quoted(*text));
    return std::nullopt;
  }
  if (*d > max) {
    error(at, p, "must be at most " + format_go_duration(max) + ", got " + quoted(*text));
    return std::nullopt;
  }
  return std::chrono::duration_cast<milliseconds>(*d);
}

// An absolute path to a readable regular file; secrets' permissions are checked too.
std::optional<std::string> TomlReader::file(const toml::table* t, std::string_view section,
                                            std::string_view key, FileKind kind) {
  auto p = str(t, section, key);
  if (!p) return std::nullopt;
  const std::string k = path(section, key);
  const SourcePosition at = where(k);
  if (p->empty()) return p;  // the same as leaving it out
  if (p->size() > kMaxPathBytes || p->front() != '/') {
    error(at, k, "must be an absolute path (systemd starts the daemon in /), got " + quoted(*p));
    return std::nullopt;
  }
  auto mode = check_readable_file(*p);
  if (!mode) {
    error(at, k, mode.error().message);
    return std::nullopt;
  }
  if (kind == FileKind::kSecret && (*mode & 0044U) != 0) {
    warning(at, k,
            "\"" + *p + "\" is readable by group or others (mode " + format_mode(*mode) +
                "); chmod 600 it");
  } else if (kind == FileKind::kPrivateKey && (*mode & 0004U) != 0) {
    warning(at, k,
            "\"" + *p + "\" is readable by everyone (mode " + format_mode(*mode) +
                "); chmod 600 or 640 it");
  }
  return p;
}

}  // namespace edd::config
