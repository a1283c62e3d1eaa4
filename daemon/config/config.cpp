#include "config/config.h"

#include <cstdlib>

namespace edd::config {

rule::Rule PolicyConfig::default_rule() {
  auto parsed = rule::Rule::parse(kDefaultRule);
  if (!parsed) std::abort();  // the built-in default is a constant: impossible
  return std::move(parsed).value();
}

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string_view to_string(LogFormat f) { return f == LogFormat::kJson ? "json" : "text"; }

}  // namespace edd::config
