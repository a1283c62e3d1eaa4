#include "defrag/versions.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace edd::defrag {
namespace {

struct BugRange {
  EtcdVersion from;      // first affected release
  EtcdVersion fixed_in;  // first release with the fix, on the same line
  const char* issue;
  const char* summary;
};

// From etcd's issues and changelogs. Each range is one release line (3.5.x or 3.6.x).
constexpr BugRange kDefragBugs[] = {
    {{3, 5, 0},
     {3, 5, 6},
     "etcd#14733",
     "a crash during defragmentation can leave the member's revisions inconsistent"},
    {{3, 5, 0},
     {3, 5, 17},
     "etcd#18842",
     "a defragmentation error can panic the member and leak temporary files"},
    {{3, 5, 0},
     {3, 5, 23},
     "etcd#20653",
     "a defragmentation racing a snapshot being applied can corrupt the member"},
    {{3, 6, 0},
     {3, 6, 5},
     "etcd#20653",
     "a defragmentation racing a snapshot being applied can corrupt the member"},
};

std::string to_string(const EtcdVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

bool parse_int(std::string_view& text, int* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (ec != std::errc() || end == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return true;
}

}  // namespace

std::optional<EtcdVersion> parse_etcd_version(std::string_view text) {
  EtcdVersion v;
  if (!parse_int(text, &v.major) || !text.starts_with('.')) return std::nullopt;
  text.remove_prefix(1);
  if (!parse_int(text, &v.minor) || !text.starts_with('.')) return std::nullopt;
  text.remove_prefix(1);
  if (!parse_int(text, &v.patch)) return std::nullopt;
  if (!text.empty() && text.front() != '-' && text.front() != '+') return std::nullopt;
  return v;
}

std::vector<KnownDefragBug> known_defrag_bugs(std::string_view version) {
  std::vector<KnownDefragBug> bugs;
  const auto v = parse_etcd_version(version);
  if (!v) return bugs;
  for (const auto& range : kDefragBugs) {
    if (*v >= range.from && *v < range.fixed_in) {
      bugs.push_back({range.issue, to_string(range.fixed_in), range.summary});
    }
  }
  return bugs;
}

std::string describe_bug(std::string_view version, const KnownDefragBug& bug) {
  return "etcd " + std::string(version) + " has " + bug.issue + " (" + bug.summary +
         "), fixed in " + bug.fixed_in;
}

std::string version_change_name(VersionChange change) {
  switch (change) {
    case VersionChange::kNone:
      return "none";
    case VersionChange::kUpgrade:
      return "upgrade";
    case VersionChange::kDowngrade:
      break;
  }
  return "downgrade";
}

VersionChangeVerdict detect_version_change(const std::vector<etcd::MemberSnapshot>& view) {
  for (const auto& m : view) {
    if (m.status && m.status->downgrade_enabled) {
      return {VersionChange::kDowngrade, "a downgrade to " + m.status->downgrade_target_version +
                                             " is in progress (member " + m.endpoint +
                                             " reports it)"};
    }
  }
  // major.minor -> "endpoint version, ..." in a stable order.
  std::map<std::pair<int, int>, std::string> lines;
  for (const auto& m : view) {
    if (!m.status) continue;
    const auto v = parse_etcd_version(m.status->version);
    if (!v) continue;
    std::string& members = lines[{v->major, v->minor}];
    members += (members.empty() ? "" : ", ") + m.endpoint + " " + m.status->version;
  }
  if (lines.size() < 2) return {};
  std::string reason = "members run different etcd versions (an upgrade is in progress): ";
  bool first = true;
  for (const auto& [minor, members] : lines) {
    reason += (first ? "" : "; ") + members;
    first = false;
  }
  return {VersionChange::kUpgrade, reason};
}

std::vector<std::string> version_warnings(const std::vector<etcd::MemberSnapshot>& view) {
  // "etcd 3.6.4 has etcd#20653 (...), fixed in 3.6.5" -> the members that run it, in view order.
  std::vector<std::pair<std::string, std::string>> bugs;
  for (const auto& m : view) {
    if (!m.status) continue;
    for (const auto& bug : known_defrag_bugs(m.status->version)) {
      const std::string line = describe_bug(m.status->version, bug);
      auto it =
          std::find_if(bugs.begin(), bugs.end(), [&](const auto& b) { return b.first == line; });
      if (it == bugs.end()) {
        bugs.emplace_back(line, m.endpoint);
      } else {
        it->second += ", " + m.endpoint;
      }
    }
  }
  std::vector<std::string> lines;
  for (const auto& [line, members] : bugs) lines.push_back(line + ": members " + members);
  if (auto change = detect_version_change(view); change.change != VersionChange::kNone) {
    lines.push_back(change.reason);
  }
  return lines;
}

}  // namespace edd::defrag
