// Alertmanager's webhook payload (version "4"), parsed with Boost.JSON into our own structs,
// checked for the fields we rely on. Pure and thread-safe; fuzzed (tests/fuzz/webhook_fuzz.cpp).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace edd::http {

struct Alert {
  std::string status;  // "firing" or "resolved"
  std::map<std::string, std::string> labels;
  std::string fingerprint;
  std::string starts_at;
};

struct AlertmanagerPayload {
  std::string version;
  std::string group_key;
  std::string status;  // of the group: "firing" or "resolved"
  std::string receiver;
  std::vector<Alert> alerts;
};

// kInvalidArgument naming the missing or wrong field; the body is never echoed.
Result<AlertmanagerPayload> parse_alertmanager_payload(std::string_view body);

using LabelMatchers = std::vector<std::pair<std::string, std::string>>;

// A firing alert that carries every matcher's label with that value.
bool alert_matches(const Alert& alert, const LabelMatchers& matchers);

}  // namespace edd::http
