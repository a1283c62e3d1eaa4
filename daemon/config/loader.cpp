#include "config/loader.h"

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <map>
#include <set>
#include <utility>

#include "common/duration.h"
#include "config/file_access.h"
#include "config/source_map.h"
#include "etcd/endpoint.h"

// Debian's libtomlplusplus is built with exceptions; its ABI namespace (toml::v3::ex) must match.
static_assert(TOML_EXCEPTIONS, "toml++ must be used with exceptions, as Debian builds it");

namespace edd::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using namespace std::chrono_literals;

constexpr std::size_t kMaxWhyBytes = 400;
constexpr std::size_t kMaxValueBytes = 256;  // durations, endpoints, windows, enum words
constexpr std::size_t kMaxPathBytes = 4096;
// A deliberately slow defrag speed (the measured one is ~250 MB/s on a 2-core host): the lock
// TTL should outlive the leader's defrag of a quota-sized database even on slow disks.
constexpr double kSlowDefragBytesPerSecond = 50e6;

struct Section {
  std::string_view name;
  std::vector<std::string_view> keys;
};

const std::vector<Section>& schema() {
  static const std::vector<Section> kSchema = {
      {"etcd",
       {"endpoints", "local_endpoint", "cluster", "cacert", "cert", "key", "user", "password_file",
        "dial_timeout", "command_timeout"}},
      {"policy",
       {"poll_interval", "rule", "quota_bytes", "compaction", "move_leader",
        "move_leader_min_stall", "auto_disalarm", "disalarm_threshold", "min_interval",
        "nospace_bypasses_min_interval", "defrag_during_version_change", "continue_on_error",
        "wait_between_defrags", "dry_run", "consistency_check", "pause_file",
        "maintenance_windows"}},
      {"lock", {"prefix", "ttl"}},
      {"http",
       {"listen", "cert", "key", "client_ca", "webhook_token_file", "webhook_matchers",
        "webhook_bypasses_rule", "body_limit_bytes", "max_connections",
        "max_connections_per_address", "request_head_timeout", "idle_timeout",
        "tls_handshake_timeout"}},
      {"log", {"level", "format"}},
  };
  return kSchema;
}

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

// At most `max` bytes, cut on a UTF-8 boundary, with "..." when cut.
std::string clip(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

std::string quoted(std::string_view value) { return "\"" + clip(escape(value), 80) + "\""; }

// A key as TOML would accept it bare, or quoted.
std::string display_key(std::string_view k) {
  const bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
  return bare ? std::string(k) : quoted(k);
}

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

std::string join_sections() {
  std::string out;
  for (const auto& s : schema()) out += (out.empty() ? "[" : ", [") + std::string(s.name) + "]";
  return out;
}

struct Message {
  SourcePosition at;
  std::string text;
};

class Loader {
 public:
  Loader(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

  LoadResult run() {
    LoadResult out;
    try {
      parse_and_validate();
    } catch (const toml::parse_error& e) {
      error(position(e.source()), "syntax error", std::string(e.description()));
    } catch (const std::exception& e) {
      error({}, "config", std::string("cannot load: ") + e.what());
    }
    out.errors = finish(errors_);
    out.warnings = finish(warnings_);
    if (out.errors.empty()) {
      config_.source = source_;
      out.config = std::move(config_);
    }
    return out;
  }

 private:
  enum class FileKind {
    kPublic,      // certificates, CA bundles
    kPrivateKey,  // warn when world-readable (group-readable keys are a common deliberate setup)
    kSecret,      // passwords, tokens: warn when group- or world-readable
  };

  static SourcePosition position(const toml::source_region& r) {
    return {r.begin.line, r.begin.column};
  }

  std::vector<std::string> finish(std::vector<Message>& messages) const {
    std::stable_sort(messages.begin(), messages.end(), [](const Message& a, const Message& b) {
      return std::pair(a.at.line, a.at.column) < std::pair(b.at.line, b.at.column);
    });
    std::vector<std::string> out;
    for (const auto& m : messages) out.push_back(m.text);
    return out;
  }

  std::string format(SourcePosition at, std::string_view key, std::string_view why) const {
    std::string where = source_;
    if (at.line > 0) where += ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
    return escape(where) + ": " + clip(escape(key), 200) + ": " + clip(escape(why), kMaxWhyBytes);
  }

  void error(SourcePosition at, std::string_view key, std::string_view why) {
    failed_.insert(std::string(key));
    errors_.push_back({at, format(at, key, why)});
  }

  void warning(SourcePosition at, std::string_view key, std::string_view why) {
    warnings_.push_back({at, format(at, key, why)});
  }

  static std::string path(std::string_view section, std::string_view key) {
    return std::string(section) + "." + std::string(key);
  }

  SourcePosition where(const std::string& key) const {
    const auto it = seen_.find(key);
    return it == seen_.end() ? SourcePosition{} : it->second;
  }

  bool ok(const std::string& key) const { return failed_.count(key) == 0; }

  void wrong_type(const toml::node& n, const std::string& key, std::string_view expected) {
    error(position(n.source()), key,
          "expected " + std::string(expected) + ", got " + type_name(n.type()));
  }

  // ---- unknown keys and sections ----

  void check_root(const toml::table& root) {
    for (const auto& [k, node] : root) {
      const std::string name(k.str());
      SourcePosition at = position(k.source());
      if (at.line == 0) at = position(node.source());
      const auto& sections = schema();
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
          why += " (known: " + join_sections() + ")";
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
      if (why == "unknown key") why += " outside any section (known: " + join_sections() + ")";
      error(at, display_key(name), why);
    }
  }

  void check_keys(const toml::table& t, const Section& section) {
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
        for (const auto& other : schema()) {
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

  const toml::node* lookup(const toml::table* t, std::string_view section, std::string_view key) {
    if (t == nullptr) return nullptr;
    const toml::node* n = t->get(key);
    if (n != nullptr) seen_[path(section, key)] = position(n->source());
    return n;
  }

  std::optional<std::string> string_at(const toml::node& n, const std::string& key,
                                       std::string_view expected = "a string") {
    if (const auto* s = n.as_string()) return s->get();
    wrong_type(n, key, expected);
    return std::nullopt;
  }

  std::optional<std::string> str(const toml::table* t, std::string_view section,
                                 std::string_view key) {
    const toml::node* n = lookup(t, section, key);
    if (n == nullptr) return std::nullopt;
    return string_at(*n, path(section, key));
  }

  // A short string that will be echoed in messages.
  std::optional<std::string> word(const toml::table* t, std::string_view section,
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

  std::optional<bool> boolean(const toml::table* t, std::string_view section,
                              std::string_view key) {
    const toml::node* n = lookup(t, section, key);
    if (n == nullptr) return std::nullopt;
    if (const auto* b = n->as_boolean()) return b->get();
    wrong_type(*n, path(section, key), "true or false");
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(const toml::table* t, std::string_view section,
                                      std::string_view key) {
    const toml::node* n = lookup(t, section, key);
    if (n == nullptr) return std::nullopt;
    if (const auto* i = n->as_integer()) return i->get();
    wrong_type(*n, path(section, key), "an integer");
    return std::nullopt;
  }

  std::optional<double> number(const toml::table* t, std::string_view section,
                               std::string_view key) {
    const toml::node* n = lookup(t, section, key);
    if (n == nullptr) return std::nullopt;
    if (const auto* f = n->as_floating_point()) return f->get();
    if (const auto* i = n->as_integer()) return static_cast<double>(i->get());
    wrong_type(*n, path(section, key), "a number");
    return std::nullopt;
  }

  // A Go duration string within [min, max].
  std::optional<milliseconds> duration(const toml::table* t, std::string_view section,
                                       std::string_view key, nanoseconds min, nanoseconds max) {
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
  std::optional<std::string> file(const toml::table* t, std::string_view section,
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

  // ---- sections ----

  void read_etcd(const toml::table* t) {
    constexpr std::string_view S = "etcd";
    EtcdConfig& e = config_.etcd;
    bool endpoints_set = false;
    if (const toml::node* n = lookup(t, S, "endpoints")) {
      const std::string key = path(S, "endpoints");
      if (const auto* a = n->as_array()) {
        std::vector<std::string> list;
        bool good = true;
        for (std::size_t i = 0; i < a->size(); ++i) {
          const toml::node& item = *a->get(i);
          const std::string item_key = key + "[" + std::to_string(i) + "]";
          auto s = string_at(item, item_key);
          if (!s) {
            good = false;
            continue;
          }
          if (auto ep = s->size() > kMaxValueBytes
                            ? Result<etcd::Endpoint>(make_error(ErrorCode::kInvalidArgument,
                                                                "too long to be an endpoint"))
                            : etcd::parse_endpoint(*s);
              !ep) {
            error(position(item.source()), item_key, ep.error().message);
            good = false;
            continue;
          }
          list.push_back(*s);
        }
        if (a->empty()) {
          error(position(n->source()), key, "lists no endpoint; name at least this host's member");
        } else if (good) {
          e.endpoints = std::move(list);
          endpoints_set = true;
        }
      } else {
        wrong_type(*n, key,
                   "an array of strings such as [\"https://10.0.0.1:2379\"] (a comma-separated "
                   "string is not accepted)");
      }
    }
    if (auto s = word(t, S, "local_endpoint")) {
      if (auto ep = etcd::parse_endpoint(*s); !ep) {
        error(where(path(S, "local_endpoint")), path(S, "local_endpoint"), ep.error().message);
      } else {
        e.local_endpoint = *s;
        if (!endpoints_set && ok(path(S, "endpoints"))) e.endpoints = {*s};
      }
    }
    if (auto b = boolean(t, S, "cluster")) e.cluster = *b;
    if (auto p = file(t, S, "cacert", FileKind::kPublic)) e.cacert = *p;
    if (auto p = file(t, S, "cert", FileKind::kPublic)) e.cert = *p;
    if (auto p = file(t, S, "key", FileKind::kPrivateKey)) e.key = *p;
    if (auto s = str(t, S, "user")) {
      const std::string key = path(S, "user");
      // Never echo the value: "name:password" would print the password.
      if (s->find(':') != std::string::npos) {
        error(where(key), key,
              "must not contain ':' (no inline password; put it in etcd.password_file)");
      } else if (s->size() > kMaxValueBytes) {
        error(where(key), key, "is longer than " + std::to_string(kMaxValueBytes) + " bytes");
      } else {
        e.user = *s;
      }
    }
    if (auto p = file(t, S, "password_file", FileKind::kSecret)) e.password_file = *p;
    if (auto d = duration(t, S, "dial_timeout", 1ms, 5min)) e.dial_timeout = *d;
    if (auto d = duration(t, S, "command_timeout", 1ms, 1h)) e.command_timeout = *d;

    pair_required(S, "cert", e.cert, "key", e.key, "a client certificate needs its key");
    if (!e.user.empty() && e.password_file.empty() && ok(path(S, "password_file"))) {
      error(where(path(S, "user")), path(S, "user"),
            "needs etcd.password_file (the file holding the user's password)");
    }
    if (e.user.empty() && !e.password_file.empty() && ok(path(S, "user"))) {
      error(where(path(S, "password_file")), path(S, "password_file"), "needs etcd.user");
    }
  }

  void read_policy(const toml::table* t) {
    constexpr std::string_view S = "policy";
    PolicyConfig& p = config_.policy;
    if (auto d = duration(t, S, "poll_interval", 1s, 24h)) p.poll_interval = *d;
    if (const toml::node* n = lookup(t, S, "rule")) read_rule(*n);
    if (auto q = integer(t, S, "quota_bytes")) {
      constexpr std::int64_t kMin = 1LL << 20;
      constexpr std::int64_t kMax = 1LL << 40;
      if (*q != 0 && (*q < kMin || *q > kMax)) {
        error(where(path(S, "quota_bytes")), path(S, "quota_bytes"),
              "must be 0 (automatic) or between " + std::to_string(kMin) + " (1 MiB) and " +
                  std::to_string(kMax) + " (1 TiB), got " + std::to_string(*q));
      } else {
        p.quota_bytes = *q;
      }
    }
    if (auto b = boolean(t, S, "compaction")) p.compaction = *b;
    if (const toml::node* n = lookup(t, S, "move_leader")) {
      const std::string key = path(S, "move_leader");
      constexpr std::string_view kExpected = "true, false or \"auto\"";
      if (const auto* b = n->as_boolean()) {
        p.move_leader = b->get() ? MoveLeader::kAlways : MoveLeader::kNever;
      } else if (const auto* s = n->as_string()) {
        const std::string& v = s->get();
        if (v == "auto") {
          p.move_leader = MoveLeader::kAuto;
        } else if (v == "true" || v == "false") {
          error(position(n->source()), key,
                "expected " + std::string(kExpected) + ", got the string " + quoted(v) +
                    "; write " + v + " without quotes");
        } else {
          error(position(n->source()), key,
                "expected " + std::string(kExpected) + ", got " + quoted(v));
        }
      } else {
        wrong_type(*n, key, kExpected);
      }
    }
    if (auto d = duration(t, S, "move_leader_min_stall", 1ms, 1h)) p.move_leader_min_stall = *d;
    if (auto b = boolean(t, S, "auto_disalarm")) p.auto_disalarm = *b;
    if (auto x = number(t, S, "disalarm_threshold")) {
      if (!(*x > 0.0 && *x < 1.0)) {
        error(where(path(S, "disalarm_threshold")), path(S, "disalarm_threshold"),
              "must be between 0 and 1 (exclusive), e.g. 0.9, got " + format_number(*x));
      } else {
        p.disalarm_threshold = *x;
      }
    }
    if (auto d = duration(t, S, "min_interval", 0s, 720h)) p.min_interval = *d;
    if (auto b = boolean(t, S, "nospace_bypasses_min_interval")) {
      p.nospace_bypasses_min_interval = *b;
    }
    if (auto b = boolean(t, S, "defrag_during_version_change")) {
      p.defrag_during_version_change = *b;
    }
    if (auto b = boolean(t, S, "continue_on_error")) p.continue_on_error = *b;
    if (auto d = duration(t, S, "wait_between_defrags", 0s, 1h)) p.wait_between_defrags = *d;
    if (auto b = boolean(t, S, "dry_run")) p.dry_run = *b;
    if (auto b = boolean(t, S, "consistency_check")) p.consistency_check = *b;
    if (auto s = str(t, S, "pause_file")) {
      const std::string key = path(S, "pause_file");
      if (s->empty() || s->size() > kMaxPathBytes || s->front() != '/' || s->back() == '/') {
        error(
            where(key), key,
            "must be an absolute file path (its presence pauses every action), got " + quoted(*s));
      } else {
        p.pause_file = *s;
      }
    }
    if (const toml::node* n = lookup(t, S, "maintenance_windows")) {
      const std::string key = path(S, "maintenance_windows");
      if (const auto* a = n->as_array()) {
        std::vector<MaintenanceWindow> windows;
        for (std::size_t i = 0; i < a->size(); ++i) {
          const toml::node& item = *a->get(i);
          const std::string item_key = key + "[" + std::to_string(i) + "]";
          auto s = string_at(item, item_key, "a string such as \"Sat 02:00-04:00\"");
          if (!s) continue;
          if (s->size() > kMaxValueBytes) {
            error(position(item.source()), item_key, "too long to be a maintenance window");
            continue;
          }
          auto w = parse_maintenance_window(*s);
          if (!w) {
            error(position(item.source()), item_key, w.error().message);
            continue;
          }
          windows.push_back(std::move(*w));
        }
        p.maintenance_windows = std::move(windows);
      } else {
        wrong_type(*n, key, "an array of strings such as [\"Sat 02:00-04:00\"]");
      }
    }
  }

  // The column points into the rule string at the fault (source_map.h), not at its quote.
  void read_rule(const toml::node& n) {
    const std::string key = "policy.rule";
    auto text = string_at(n, key);
    if (!text) return;
    const auto fault = rule::Rule::diagnose(*text);
    if (!fault) {
      auto parsed = rule::Rule::parse(*text);
      if (parsed) config_.policy.rule = std::move(parsed).value();
      return;
    }
    SourcePosition at = position(n.source());
    const std::size_t offset = fault->column > 0 ? fault->column - 1 : 0;
    if (const auto inside = locate_in_string(text_, at, std::min(offset, text->size()))) {
      at = *inside;
    }
    error(at, key,
          "invalid rule: " + fault->reason + " (column " + std::to_string(fault->column) +
              " of the rule)");
  }

  void read_lock(const toml::table* t) {
    constexpr std::string_view S = "lock";
    LockConfig& l = config_.lock;
    if (auto s = word(t, S, "prefix")) {
      const std::string key = path(S, "prefix");
      if (s->empty() || s->back() == '/') {
        error(where(key), key,
              "must be a non-empty key prefix without a trailing '/' (keys are "
              "prefix/<lease-id>), got " +
                  quoted(*s));
      } else {
        l.prefix = *s;
      }
    }
    if (auto d = duration(t, S, "ttl", 10s, 1h)) {
      if (*d % 1s != 0ms) {
        error(where(path(S, "ttl")), path(S, "ttl"),
              "must be whole seconds (etcd lease TTLs are), got " + format_go_duration(*d));
      } else {
        l.ttl = std::chrono::duration_cast<std::chrono::seconds>(*d);
      }
    }
  }

  void read_http(const toml::table* t) {
    constexpr std::string_view S = "http";
    HttpConfig& h = config_.http;
    if (auto s = word(t, S, "listen")) {
      if (auto a = parse_listen_address(*s); !a) {
        error(where(path(S, "listen")), path(S, "listen"), a.error().message);
      } else {
        h.listen = *a;
      }
    }
    if (auto p = file(t, S, "cert", FileKind::kPublic)) h.cert = *p;
    if (auto p = file(t, S, "key", FileKind::kPrivateKey)) h.key = *p;
    if (auto p = file(t, S, "client_ca", FileKind::kPublic)) h.client_ca = *p;
    if (auto p = file(t, S, "webhook_token_file", FileKind::kSecret)) h.webhook_token_file = *p;
    if (const toml::node* n = lookup(t, S, "webhook_matchers")) {
      const std::string key = path(S, "webhook_matchers");
      if (const auto* a = n->as_array()) {
        std::vector<std::pair<std::string, std::string>> matchers;
        for (std::size_t i = 0; i < a->size(); ++i) {
          const toml::node& item = *a->get(i);
          const std::string item_key = key + "[" + std::to_string(i) + "]";
          auto m = string_at(item, item_key, "a string such as \"remediation=etcd-defrag\"");
          if (!m) continue;
          const auto eq = m->find('=');
          if (eq == std::string::npos || eq == 0 || m->size() > kMaxValueBytes) {
            error(position(item.source()), item_key,
                  "expected label=value, such as \"remediation=etcd-defrag\"");
            continue;
          }
          matchers.emplace_back(m->substr(0, eq), m->substr(eq + 1));
        }
        h.webhook_matchers = std::move(matchers);
      } else {
        wrong_type(*n, key, "an array of strings such as [\"remediation=etcd-defrag\"]");
      }
    }
    if (auto b = boolean(t, S, "webhook_bypasses_rule")) h.webhook_bypasses_rule = *b;
    if (const toml::node* n = lookup(t, S, "body_limit_bytes")) {
      const std::string key = path(S, "body_limit_bytes");
      if (const auto* v = n->as_integer(); v == nullptr) {
        wrong_type(*n, key, "an integer number of bytes");
      } else if (v->get() < 1024 || v->get() > 64LL * 1024 * 1024) {
        error(position(n->source()), key, "must be between 1024 and 67108864 bytes");
      } else {
        h.body_limit_bytes = static_cast<std::size_t>(v->get());
      }
    }
    read_http_limits(t);
    pair_required(S, "cert", h.cert, "key", h.key, "TLS needs both");
    if (!h.client_ca.empty() && (h.cert.empty() || h.key.empty()) && ok(path(S, "cert")) &&
        ok(path(S, "key"))) {
      error(where(path(S, "client_ca")), path(S, "client_ca"),
            "needs http.cert and http.key (client certificates are checked only over TLS)");
    }
  }

  // The listener's caps and deadlines against clients that hold connections open.
  void read_http_limits(const toml::table* t) {
    constexpr std::string_view S = "http";
    constexpr std::int64_t kMaxCap = 16384;
    HttpConfig& h = config_.http;
    auto cap = [&](std::string_view name) -> std::optional<std::size_t> {
      const toml::node* n = lookup(t, S, name);
      if (n == nullptr) return std::nullopt;
      const std::string key = path(S, name);
      if (const auto* v = n->as_integer(); v == nullptr) {
        wrong_type(*n, key, "an integer number of connections");
      } else if (v->get() < 1 || v->get() > kMaxCap) {
        error(position(n->source()), key,
              "must be between 1 and " + std::to_string(kMaxCap) + " connections, got " +
                  std::to_string(v->get()));
      } else {
        return static_cast<std::size_t>(v->get());
      }
      return std::nullopt;
    };
    if (auto n = cap("max_connections")) h.max_connections = *n;
    if (auto n = cap("max_connections_per_address")) h.max_connections_per_address = *n;
    if (h.max_connections_per_address > h.max_connections) {
      const std::string key = path(S, "max_connections_per_address");
      error(where(key), key,
            "must not exceed http.max_connections (" + std::to_string(h.max_connections) + ")");
    }
    if (auto d = duration(t, S, "request_head_timeout", 100ms, 10min)) h.request_head_timeout = *d;
    if (auto d = duration(t, S, "idle_timeout", 1s, 1h)) h.idle_timeout = *d;
    if (auto d = duration(t, S, "tls_handshake_timeout", 100ms, 10min)) {
      h.tls_handshake_timeout = *d;
    }
  }

  void read_log(const toml::table* t) {
    constexpr std::string_view S = "log";
    LogConfig& g = config_.log;
    if (auto s = word(t, S, "level")) {
      static constexpr std::array<std::pair<std::string_view, LogLevel>, 5> kLevels = {{
          {"trace", LogLevel::kTrace},
          {"debug", LogLevel::kDebug},
          {"info", LogLevel::kInfo},
          {"warn", LogLevel::kWarn},
          {"error", LogLevel::kError},
      }};
      const auto it = std::find_if(kLevels.begin(), kLevels.end(),
                                   [&](const auto& l) { return l.first == *s; });
      if (it == kLevels.end()) {
        error(where(path(S, "level")), path(S, "level"),
              "expected trace, debug, info, warn or error, got " + quoted(*s));
      } else {
        g.level = it->second;
      }
    }
    if (auto s = word(t, S, "format")) {
      if (*s == "text") {
        g.format = LogFormat::kText;
      } else if (*s == "json") {
        g.format = LogFormat::kJson;
      } else {
        error(where(path(S, "format")), path(S, "format"),
              "expected text or json, got " + quoted(*s));
      }
    }
  }

  // `a` and `b` of one section go together: an error at whichever is given alone.
  void pair_required(std::string_view section, std::string_view a, const std::string& a_value,
                     std::string_view b, const std::string& b_value, std::string_view why) {
    const std::string ka = path(section, a);
    const std::string kb = path(section, b);
    if (!ok(ka) || !ok(kb)) return;
    if (!a_value.empty() && b_value.empty()) {
      error(where(ka), ka, "needs " + kb + " (" + std::string(why) + ")");
    } else if (a_value.empty() && !b_value.empty()) {
      error(where(kb), kb, "needs " + ka + " (" + std::string(why) + ")");
    }
  }

  // The lock's lease must outlive every single call the actor makes while holding it: a
  // keep-alive or ownership check that hangs for command_timeout must fail before the lease can
  // expire and another daemon take over. And it should outlive the leader's defrag, during which
  // etcd answers no keep-alive (design.md, measured facts).
  void cross_checks() {
    const auto& ttl = config_.lock.ttl;
    const auto& command_timeout = config_.etcd.command_timeout;
    if (ok("lock.ttl") && ok("etcd.command_timeout") && ttl <= command_timeout) {
      constexpr std::string_view kWhy =
          ": a keep-alive that hangs must fail before the lease expires";
      if (where("lock.ttl").line > 0) {
        error(where("lock.ttl"), "lock.ttl",
              "must be longer than etcd.command_timeout (" + format_go_duration(command_timeout) +
                  "), got " + format_go_duration(ttl) + std::string(kWhy));
      } else {
        error(where("etcd.command_timeout"), "etcd.command_timeout",
              "must be shorter than lock.ttl (" + format_go_duration(ttl) + "), got " +
                  format_go_duration(command_timeout) + std::string(kWhy));
      }
    }
    if (ok("lock.ttl") && ok("policy.quota_bytes")) {
      const double seconds =
          static_cast<double>(config_.policy.fallback_quota_bytes()) / kSlowDefragBytesPerSecond;
      if (seconds > static_cast<double>(ttl.count())) {
        const bool ttl_given = where("lock.ttl").line > 0;
        warning(ttl_given ? where("lock.ttl") : where("policy.quota_bytes"),
                ttl_given ? "lock.ttl" : "policy.quota_bytes",
                format_go_duration(ttl) + " may not outlive the leader's defrag of a " +
                    std::to_string(config_.policy.fallback_quota_bytes()) +
                    "-byte database (about " + std::to_string(static_cast<long long>(seconds)) +
                    "s at 50 MB/s), during which etcd answers no keep-alive; raise lock.ttl");
      }
    }
  }

  static std::string format_number(double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", x);
    return buf;
  }

  const toml::table* section(const toml::table& root, std::string_view name) {
    const toml::node* n = root.get(name);
    return n != nullptr ? n->as_table() : nullptr;
  }

  void parse_and_validate() {
    const toml::table root = toml::parse(text_, std::string_view(source_));
    check_root(root);
    for (const auto& s : schema()) {
      if (const toml::table* t = section(root, s.name)) check_keys(*t, s);
    }
    read_etcd(section(root, "etcd"));
    read_policy(section(root, "policy"));
    read_lock(section(root, "lock"));
    read_http(section(root, "http"));
    read_log(section(root, "log"));
    cross_checks();
  }

  std::string_view text_;
  std::string source_;
  Config config_;
  std::vector<Message> errors_;
  std::vector<Message> warnings_;
  std::map<std::string, SourcePosition> seen_;  // dotted key -> where its value was written
  std::set<std::string> failed_;                // dotted keys that already have an error
};

}  // namespace

LoadResult load_config_string(std::string_view toml, const std::string& source_name) {
  if (toml.size() > kMaxConfigBytes) {
    LoadResult out;
    out.errors.push_back(escape(source_name) + ": the config is " + std::to_string(toml.size()) +
                         " bytes long; the limit is " + std::to_string(kMaxConfigBytes));
    return out;
  }
  return Loader(toml, source_name).run();
}

LoadResult load_config_file(const std::string& path) {
  auto contents = read_small_file(path, kMaxConfigBytes);
  if (!contents) {
    LoadResult out;
    out.errors.push_back(escape(path) + ": " + escape(contents.error().message));
    return out;
  }
  return load_config_string(contents->bytes, path);
}

}  // namespace edd::config
