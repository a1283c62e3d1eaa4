// Reading a TOML document key by key against a schema, collecting every problem as a
// `file:line:col: key: why` line instead of stopping at the first: the typed readers the
// config's sections are built from (config/loader.cpp). Private to the config library.
#pragma once

#include <toml++/toml.h>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/source_map.h"

namespace edd::config {

inline constexpr std::size_t kMaxValueBytes = 256;  // durations, endpoints, windows, enum words
inline constexpr std::size_t kMaxPathBytes = 4096;

struct Section {
  std::string_view name;
  std::vector<std::string_view> keys;
};

// Control characters escaped so every message stays one line.
std::string escape(std::string_view s);
// A value for a message: quoted, escaped, at most 80 bytes.
std::string quoted(std::string_view value);
std::string type_name(toml::node_type t);

class TomlReader {
 protected:
  TomlReader(std::string_view text, std::string source, const std::vector<Section>& schema)
      : text_(text), source_(std::move(source)), schema_(schema) {}

  enum class FileKind {
    kPublic,      // certificates, CA bundles
    kPrivateKey,  // warn when world-readable (group-readable keys are a common deliberate setup)
    kSecret,      // passwords, tokens: warn when group- or world-readable
  };
  struct Message {
    SourcePosition at;
    std::string text;
  };

  // Messages in file order, as text.
  std::vector<std::string> finish(std::vector<Message>& messages) const;
  static SourcePosition position(const toml::source_region& r);
  std::string format(SourcePosition at, std::string_view key, std::string_view why) const;
  void error(SourcePosition at, std::string_view key, std::string_view why);
  void warning(SourcePosition at, std::string_view key, std::string_view why);
  static std::string path(std::string_view section, std::string_view key);
  SourcePosition where(const std::string& key) const;  // where a key's value was written
  bool ok(const std::string& key) const;               // the key has no error yet
  void wrong_type(const toml::node& n, const std::string& key, std::string_view expected);

  // Unknown sections and keys, with a guess at the typo or the section a key belongs in.
  void check_root(const toml::table& root);
  void check_keys(const toml::table& t, const Section& section);

  // Typed access: absent -> nullopt silently; wrong type or out of range -> an error, nullopt.
  const toml::node* lookup(const toml::table* t, std::string_view section, std::string_view key);
  std::optional<std::string> string_at(const toml::node& n, const std::string& key,
                                       std::string_view expected = "a string");
  std::optional<std::string> str(const toml::table* t, std::string_view section,
                                 std::string_view key);
  // A short string that will be echoed in messages.
  std::optional<std::string> word(const toml::table* t, std::string_view section,
                                  std::string_view key);
  std::optional<bool> boolean(const toml::table* t, std::string_view section, std::string_view key);
  std::optional<std::int64_t> integer(const toml::table* t, std::string_view section,
                                      std::string_view key);
  std::optional<double> number(const toml::table* t, std::string_view section,
                               std::string_view key);
  // A Go duration string within [min, max].
  std::optional<std::chrono::milliseconds> duration(const toml::table* t, std::string_view section,
                                                    std::string_view key,
                                                    std::chrono::nanoseconds min,
                                                    std::chrono::nanoseconds max);
  // An absolute path to a readable regular file; secrets' permissions are checked too.
  std::optional<std::string> file(const toml::table* t, std::string_view section,
                                  std::string_view key, FileKind kind);

  std::string_view text_;
  std::string source_;
  std::vector<Message> errors_;
  std::vector<Message> warnings_;

 private:
  const std::vector<Section>& schema_;
  std::map<std::string, SourcePosition> seen_;  // dotted key -> where its value was written
  std::set<std::string> failed_;                // dotted keys that already have an error
};

}  // namespace edd::config
