// Renders `usage`'s summary for people (a table, sizes in SI units, a share of the bytes) and
// for machines (JSON, exact numbers). Pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "usage/usage.h"

namespace edd::cli {

struct UsageReport {
  usage::UsageSummary summary;
  std::string endpoint;
  std::string prefix;
  std::string grouping;  // "resource", "namespace" or "depth N"
  std::int64_t revision = 0;
  std::int64_t pages = 0;
  std::chrono::milliseconds took{0};
  bool revisions = false;  // the table shows the REVISIONS column (JSON always has it)
};

std::string render_usage_table(const UsageReport& report);
std::string render_usage_json(const UsageReport& report);

}  // namespace edd::cli
