#include "cli/usage_output.h"

#include <boost/json.hpp>
#include <cstdio>

#include "cli/status_output.h"
#include "common/bytes.h"

namespace edd::cli {
namespace {

namespace json = boost::json;

std::string share(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

std::vector<std::string> row(const std::string& name, const usage::PrefixUsage& u,
                             const UsageReport& r) {
  std::vector<std::string> cells = {name, std::to_string(u.keys), format_bytes_si(u.value_bytes),
                                    share(u.value_bytes, r.summary.total.value_bytes)};
  if (r.revisions) cells.push_back(std::to_string(u.revisions));
  return cells;
}

json::object usage_json(const usage::PrefixUsage& u) {
  return {{"prefix", u.prefix},
          {"keys", u.keys},
          {"value_bytes", u.value_bytes},
          {"revisions", u.revisions}};
}

std::string seconds(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

}  // namespace

std::string render_usage_table(const UsageReport& r) {
  std::vector<std::string> header = {"PREFIX", "KEYS", "VALUE BYTES", "SHARE"};
  if (r.revisions) header.emplace_back("REVISIONS");
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : r.summary.groups) rows.push_back(row(g.prefix, g, r));
  if (r.summary.other_groups > 0) {
    rows.push_back(
        row("other (" + std::to_string(r.summary.other_groups) + " prefixes)", r.summary.other, r));
  }
  rows.push_back(row("TOTAL", r.summary.total, r));
  std::string out = render_table(header, rows);
  out += "scanned " + std::to_string(r.summary.total.keys) + " keys under \"" + r.prefix +
         "\" on " + r.endpoint + " at revision " + std::to_string(r.revision) + " in " +
         std::to_string(r.pages) + (r.pages == 1 ? " page, " : " pages, ") + seconds(r.took) + "\n";
  return out;
}

std::string render_usage_json(const UsageReport& r) {
  json::array groups;
  for (const auto& g : r.summary.groups) groups.push_back(usage_json(g));
  json::object other = usage_json(r.summary.other);
  other["prefixes"] = r.summary.other_groups;
  const json::object out = {
      {"endpoint", r.endpoint},
      {"prefix", r.prefix},
      {"group_by", r.grouping},
      {"revision", r.revision},
      {"pages", r.pages},
      {"scan_seconds", static_cast<double>(r.took.count()) / 1000.0},
      {"groups", std::move(groups)},
      {"other", std::move(other)},
      {"total", usage_json(r.summary.total)},
  };
  return json::serialize(out) + "\n";
}

}  // namespace edd::cli
