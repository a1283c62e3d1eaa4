#include "cli/defrag_output.h"

#include <boost/json.hpp>

#include "cli/status_output.h"
#include "common/bytes.h"
#include "common/duration.h"

namespace edd::cli {

namespace json = boost::json;
using defrag::MemberResult;

std::string render_defrag_summary(const defrag::RunReport& report) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : report.members) {
    const bool done = m.result == MemberResult::kDefragmented;
    rows.push_back({m.name.empty() ? etcd::member_id_hex(m.member_id) : m.name, m.endpoint,
                    m.was_leader ? "leader" : "follower", defrag::member_result_name(m.result),
                    format_bytes_si(m.db_size_before), done ? format_bytes_si(m.db_size_after) : "",
                    done ? format_bytes_si(m.db_size_before - m.db_size_after) : "",
                    done ? format_bytes_si(m.db_size_in_use_after) : "",
                    done || m.result == MemberResult::kFailed ? format_go_duration(m.took) : "",
                    done ? "" : m.message});
  }
  std::string out = render_table({"MEMBER", "ENDPOINT", "ROLE", "RESULT", "DB SIZE BEFORE",
                                  "DB SIZE AFTER", "RECLAIMED", "IN USE AFTER", "TOOK", "NOTE"},
                                 rows);
  out += "Result: " + defrag::outcome_name(report.outcome) + ", reclaimed " +
         format_bytes_si(report.reclaimed_bytes()) + " in " + format_go_duration(report.total);
  if (!report.abort_reason.empty()) out += " (" + report.abort_reason + ")";
  return out + "\n";
}

std::string render_defrag_json(const defrag::RunReport& report) {
  json::object o;
  o["outcome"] = defrag::outcome_name(report.outcome);
  if (!report.abort_reason.empty()) o["abortReason"] = report.abort_reason;
  o["reclaimedBytes"] = report.reclaimed_bytes();
  o["totalSeconds"] = static_cast<double>(report.total.count()) / 1000.0;
  if (report.compacted_revision) o["compactedRevision"] = *report.compacted_revision;
  if (report.leader_moved_to) o["leaderMovedTo"] = etcd::member_id_hex(*report.leader_moved_to);
  json::array disarmed;
  for (const auto& a : report.disarmed) {
    disarmed.push_back(json::object{{"memberId", etcd::member_id_hex(a.member_id)},
                                    {"alarm", etcd::alarm_name(a.type)}});
  }
  o["disarmed"] = std::move(disarmed);
  if (report.hash_consistent) o["hashConsistent"] = *report.hash_consistent;
  json::array members;
  for (const auto& m : report.members) {
    members.push_back(json::object{{"endpoint", m.endpoint},
                                   {"name", m.name},
                                   {"memberId", etcd::member_id_hex(m.member_id)},
                                   {"wasLeader", m.was_leader},
                                   {"result", defrag::member_result_name(m.result)},
                                   {"message", m.message},
                                   {"dbSizeBefore", m.db_size_before},
                                   {"dbSizeInUseBefore", m.db_size_in_use_before},
                                   {"dbSizeAfter", m.db_size_after},
                                   {"dbSizeInUseAfter", m.db_size_in_use_after},
                                   {"tookSeconds", static_cast<double>(m.took.count()) / 1000.0}});
  }
  o["members"] = std::move(members);
  return json::serialize(o) + "\n";
}

}  // namespace edd::cli
