#include "cli/status_output.h"

#include <boost/json.hpp>
#include <cstdio>

#include "common/bytes.h"
#include "defrag/planner.h"
#include "defrag/versions.h"

namespace edd::cli {

namespace json = boost::json;
using etcd::MemberSnapshot;

namespace {

std::string percent(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", ratio * 100.0);
  return buf;
}

// The room on disk its host's daemon published; "?" when none did.
std::string disk_free(const MemberSnapshot& m) {
  return m.disk_free_bytes ? format_bytes_si(static_cast<std::int64_t>(*m.disk_free_bytes)) : "?";
}

std::string join_alarms(const MemberSnapshot& m) {
  std::string out;
  for (auto a : m.alarms) out += (out.empty() ? "" : ",") + etcd::alarm_name(a);
  return out;
}

bool any_nospace(const std::vector<MemberSnapshot>& view) {
  for (const auto& m : view) {
    for (auto a : m.alarms) {
      if (a == etcd::AlarmType::kNoSpace) return true;
    }
  }
  return false;
}

defrag::FloorVerdict floor_of(const MemberSnapshot& m, const policy::ReclaimFloor& floor,
                              bool nospace) {
  return defrag::check_reclaim_floor(m.endpoint, *m.status, m.quota_bytes, floor, nospace);
}

// "60 MB", "60 MB (floor 43 MB)" or "500 kB (under the floor 43 MB: held back)".
std::string reclaim_cell(const defrag::FloorVerdict& v, const policy::ReclaimFloor& floor) {
  std::string out = format_bytes_si(v.expected_reclaim);
  if (floor.is_zero()) return out;
  if (v.holds_back)
    return out + " (under the floor " + format_bytes_si(v.floor_bytes) + ": held back)";
  return out + " (floor " + format_bytes_si(v.floor_bytes) + ")";
}

}  // namespace

std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size(), 0);
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string rule = "+";
  for (auto w : width) rule += std::string(w + 2, '-') + "+";
  rule += "\n";
  auto line = [&](const std::vector<std::string>& cells, bool center) {
    std::string out = "|";
    for (std::size_t c = 0; c < width.size(); ++c) {
      const std::string& cell = c < cells.size() ? cells[c] : std::string();
      const std::size_t pad = width[c] - cell.size();
      const std::size_t left = center ? pad / 2 : 0;
      out += " " + std::string(left, ' ') + cell + std::string(pad - left, ' ') + " |";
    }
    return out + "\n";
  };
  std::string out = rule + line(header, true) + rule;
  for (const auto& row : rows) out += line(row, false);
  return out + rule;
}

std::string render_status_table(const std::vector<MemberSnapshot>& view,
                                const policy::ReclaimFloor& floor) {
  const std::vector<std::string> header = {
      "ENDPOINT",   "ID",        "NAME",       "VERSION",       "DB SIZE",
      "IN USE",     "FREE",      "QUOTA",      "QUOTA USE",     "IS LEADER",
      "IS LEARNER", "RAFT TERM", "RAFT INDEX", "APPLIED INDEX", "ALARMS",
      "ERRORS",     "DISK FREE", "RECLAIM"};
  const bool nospace = any_nospace(view);
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : view) {
    if (!m.status) {
      rows.push_back({m.endpoint, "", m.name, "", "", "", "", "", "", "", "", "", "", "", "",
                      m.error, disk_free(m), ""});
      continue;
    }
    const auto& s = *m.status;
    std::string errors;
    for (const auto& e : s.errors) errors += (errors.empty() ? "" : ", ") + e;
    rows.push_back(
        {m.endpoint, etcd::member_id_hex(s.member_id), m.name, s.version,
         format_bytes_si(s.db_size), format_bytes_si(s.db_size_in_use),
         format_bytes_si(m.db_size_free()),
         format_bytes_si(m.quota_bytes) + " (" + etcd::quota_source_name(m.quota_source) + ")",
         percent(m.quota_usage()), s.is_leader() ? "true" : "false",
         s.is_learner ? "true" : "false", std::to_string(s.raft_term), std::to_string(s.raft_index),
         std::to_string(s.raft_applied_index), join_alarms(m), errors, disk_free(m),
         reclaim_cell(floor_of(m, floor, nospace), floor)});
  }
  return render_table(header, rows);
}

std::string render_status_json(const std::vector<MemberSnapshot>& view,
                               const policy::ReclaimFloor& floor) {
  const bool nospace = any_nospace(view);
  json::array out;
  for (const auto& m : view) {
    json::object o;
    o["endpoint"] = m.endpoint;
    o["name"] = m.name;
    json::array alarms;
    for (auto a : m.alarms) alarms.emplace_back(etcd::alarm_name(a));
    if (m.status) {
      const auto& s = *m.status;
      o["memberId"] = etcd::member_id_hex(s.member_id);
      o["version"] = s.version;
      o["dbSize"] = s.db_size;
      o["dbSizeInUse"] = s.db_size_in_use;
      o["dbSizeFree"] = m.db_size_free();
      o["dbQuota"] = m.quota_bytes;
      o["dbQuotaSource"] = etcd::quota_source_name(m.quota_source);
      o["dbQuotaUsage"] = m.quota_usage();
      const auto reclaim = floor_of(m, floor, nospace);
      o["expectedReclaim"] = reclaim.expected_reclaim;
      o["reclaimFloor"] = reclaim.floor_bytes;
      o["reclaimFloorHoldsBack"] = reclaim.holds_back;
      o["isLeader"] = s.is_leader();
      o["isLearner"] = s.is_learner;
      o["raftTerm"] = s.raft_term;
      o["raftIndex"] = s.raft_index;
      o["raftAppliedIndex"] = s.raft_applied_index;
      o["revision"] = s.revision;
      o["storageVersion"] = s.storage_version;
      o["downgradeEnabled"] = s.downgrade_enabled;
      o["downgradeTargetVersion"] = s.downgrade_target_version;
      json::array bugs;
      for (const auto& bug : defrag::known_defrag_bugs(s.version)) {
        bugs.push_back(json::object{
            {"issue", bug.issue}, {"fixedIn", bug.fixed_in}, {"summary", bug.summary}});
      }
      o["knownDefragBugs"] = std::move(bugs);
      json::array errors;
      for (const auto& e : s.errors) errors.emplace_back(e);
      o["errors"] = std::move(errors);
      o["error"] = nullptr;
    } else {
      o["error"] = m.error;
    }
    o["alarms"] = std::move(alarms);
    if (m.disk_free_bytes) {
      o["diskFreeBytes"] = *m.disk_free_bytes;
    } else {
      o["diskFreeBytes"] = nullptr;
    }
    out.push_back(std::move(o));
  }
  return json::serialize(out) + "\n";
}

}  // namespace edd::cli
