#include "service/status_json.h"

#include <boost/json.hpp>

#include "etcd/types.h"

namespace edd::service {

namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

json::object member_json(const PollView& view, std::size_t i) {
  const auto& m = view.members[i];
  json::object o{{"endpoint", m.endpoint},
                 {"name", m.name},
                 {"healthy", view.healthy[i]},
                 {"ruleVerdict", defrag::action_name(view.verdicts[i].action)},
                 {"ruleReason", view.verdicts[i].reason}};
  if (m.status) {
    o["memberId"] = etcd::member_id_hex(m.status->member_id);
    o["version"] = m.status->version;
    o["dbSize"] = m.status->db_size;
    o["dbSizeInUse"] = m.status->db_size_in_use;
    o["dbQuota"] = m.quota_bytes;
    o["dbQuotaUsage"] = m.quota_usage();
    o["isLeader"] = m.status->is_leader();
    // Its room on disk as its host's daemon published it; null when none did.
    if (m.disk_free_bytes) {
      o["diskFreeBytes"] = *m.disk_free_bytes;
    } else {
      o["diskFreeBytes"] = nullptr;
    }
  } else {
    o["error"] = m.error;
  }
  return o;
}

}  // namespace

std::string status_json(const DaemonLoop& loop, milliseconds min_interval) {
  const PollView view = loop.last_view();
  json::array members;
  for (std::size_t i = 0; i < view.members.size(); ++i) members.push_back(member_json(view, i));
  json::object out{{"members", std::move(members)},
                   {"nospace", view.nospace},
                   {"actor", loop.actor()},
                   {"runPending", loop.run_pending()},
                   {"versionChange", defrag::version_change_name(view.version_change.change)},
                   {"versionChangeReason", view.version_change.reason}};
  json::array warnings;
  for (const auto& line : view.version_warnings) warnings.emplace_back(line);
  out["warnings"] = std::move(warnings);
  if (auto last = loop.last_run()) {
    out["lastRun"] = json::object{{"time", last->unix_seconds},
                                  {"result", last->result},
                                  {"actor", last->actor},
                                  {"trigger", last->trigger}};
    out["nextEligible"] =
        last->unix_seconds + std::chrono::duration_cast<std::chrono::seconds>(min_interval).count();
  }
  return json::serialize(out);
}

}  // namespace edd::service
