#include "harness/etcd_member.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <stdexcept>

namespace edd::test {
namespace {

namespace json = boost::json;

// The event of one log line, if it is a defrag's start or end.
bool parse_defrag_line(const std::string& line, int member, DefragEvent* event) {
  if (line.find(" defragment\"") == std::string::npos) return false;
  boost::system::error_code ec;
  const json::value entry = json::parse(line, ec);
  if (ec || !entry.is_object()) return false;  // a line being written right now
  const json::object& fields = entry.as_object();
  const json::value* msg = fields.if_contains("msg");
  const json::value* ts = fields.if_contains("ts");
  if (msg == nullptr || ts == nullptr || !msg->is_string() || !ts->is_string()) return false;
  const std::string text(msg->as_string());
  if (text != "starting defragment" && text != "finished defragment") return false;
  *event = {member, text, parse_zap_ts(std::string(ts->as_string()))};
  return true;
}

}  // namespace

double parse_zap_ts(const std::string& ts) {
  std::tm tm{};
  double seconds = 0;
  char zone[8] = {};
  if (std::sscanf(ts.c_str(), "%d-%d-%dT%d:%d:%lf%7s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &seconds, zone) < 6) {
    throw std::runtime_error("edd::test: unexpected timestamp in etcd's log: " + ts);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  double offset = 0;
  if (zone[0] == '+' || zone[0] == '-') {
    int value = std::atoi(zone + 1);
    offset = (zone[0] == '-' ? -1 : 1) * ((value / 100) * 3600.0 + (value % 100) * 60.0);
  }
  return static_cast<double>(::timegm(&tm)) + seconds - offset;
}

std::vector<std::string> etcd_member_argv(const MemberFlags& f) {
  std::vector<std::string> argv{
      f.etcd,
      "--name=" + f.name,
      "--data-dir=" + f.data_dir,
      "--listen-client-urls=" + f.client_url,
      "--advertise-client-urls=" + f.client_url,
      "--listen-peer-urls=" + f.peer_url,
      "--initial-advertise-peer-urls=" + f.peer_url,
      "--initial-cluster=" + f.initial_cluster,
      "--initial-cluster-token=" + f.cluster_token,
      "--initial-cluster-state=" + f.cluster_state,
      "--logger=zap",
      "--log-outputs=" + f.log_path,
      "--heartbeat-interval=100",
      "--election-timeout=1000",
  };
  if (!f.metrics_url.empty()) argv.push_back("--listen-metrics-urls=" + f.metrics_url);
  if (f.quota_backend_bytes > 0) {
    argv.push_back("--quota-backend-bytes=" + std::to_string(f.quota_backend_bytes));
  }
  return argv;
}

std::vector<DefragEvent> defrag_events_in_logs(const std::vector<std::string>& log_paths) {
  std::vector<DefragEvent> events;
  for (std::size_t i = 0; i < log_paths.size(); ++i) {
    std::ifstream in(log_paths[i]);
    DefragEvent event;
    for (std::string line; std::getline(in, line);) {
      if (parse_defrag_line(line, static_cast<int>(i), &event)) events.push_back(event);
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const DefragEvent& a, const DefragEvent& b) {
    if (a.ts != b.ts) return a.ts < b.ts;
    return a.msg == "finished defragment" && b.msg != "finished defragment";
  });
  return events;
}

}  // namespace edd::test
