#include "etcd/cluster_view.h"

#include <algorithm>
#include <future>

#include "etcd/endpoint.h"

namespace edd::etcd {

Result<std::vector<std::string>> discover_endpoints(ClusterClient& client,
                                                    const std::vector<std::string>& seeds,
                                                    bool cluster) {
  if (!cluster) return dedupe_endpoints(seeds);
  std::string errors;
  for (const auto& seed : seeds) {
    auto members = client.member_list(seed);
    if (!members) {
      errors += (errors.empty() ? "" : "; ") + members.error().message;
      continue;
    }
    std::vector<std::string> urls;
    for (const auto& m : *members) {
      urls.insert(urls.end(), m.client_urls.begin(), m.client_urls.end());
    }
    if (urls.empty()) {
      return make_error(ErrorCode::kFailedPrecondition,
                        seed + ": member list has no client URLs (members not started yet?)");
    }
    // etcd-defrag sorts the member list's URLs as strings; the followers go in that order, so a
    // drop-in must too (MemberList's own order is by member ID).
    std::sort(urls.begin(), urls.end());
    return dedupe_endpoints(urls);
  }
  return make_error(ErrorCode::kUnavailable, "cannot list members: " + errors);
}

namespace {

// What one member said about itself: its status and, when the status has no quota (etcd before
// 3.6), the quota from its metrics.
struct Fetched {
  std::optional<MemberStatus> status;
  std::string error;
  std::optional<std::int64_t> metric_quota;
};

Fetched fetch_member(ClusterClient& client, const ViewOptions& options, const std::string& ep) {
  Fetched f;
  auto st = client.status(ep);
  if (!st) {
    f.error = st.error().message;
    return f;
  }
  f.status = std::move(*st);
  if (f.status->db_size_quota <= 0 && options.quota_probe) {
    f.metric_quota = options.quota_probe(ep);
  }
  return f;
}

MemberSnapshot snapshot_of(std::string endpoint, Fetched f, const ViewOptions& options) {
  MemberSnapshot m;
  m.endpoint = std::move(endpoint);
  m.status = std::move(f.status);
  m.error = std::move(f.error);
  m.quota_bytes = options.flag_quota_bytes;
  m.quota_source = QuotaSource::kFlag;
  if (m.status && m.status->db_size_quota > 0) {
    m.quota_bytes = m.status->db_size_quota;
    m.quota_source = QuotaSource::kStatus;
  } else if (f.metric_quota && *f.metric_quota > 0) {
    m.quota_bytes = *f.metric_quota;
    m.quota_source = QuotaSource::kMetrics;
  }
  return m;
}

// The member ID of a row: from its status, or, for a member that did not answer, by its client
// URL in the member list; 0 when unknown.
std::uint64_t member_id_of(const MemberSnapshot& row, const std::vector<Member>& members) {
  if (row.status) return row.status->member_id;
  auto target = parse_endpoint(row.endpoint);
  if (!target) return 0;
  for (const auto& member : members) {
    for (const auto& url : member.client_urls) {
      auto u = parse_endpoint(url);
      if (u && u->grpc_target() == target->grpc_target()) return member.id;
    }
  }
  return 0;
}

// Names and alarms are cluster-wide facts: ask the first member that answered. A member that
// did not answer is recognised by its client URL in the member list, so its name and its
// alarms (a NOSPACE it raised before going down still makes the cluster read-only) show too.
void add_names_and_alarms(ClusterClient& client, std::vector<MemberSnapshot>& view) {
  const auto answered =
      std::find_if(view.begin(), view.end(), [](const auto& m) { return m.status.has_value(); });
  if (answered == view.end()) return;
  std::vector<Member> members;
  if (auto listed = client.member_list(answered->endpoint)) members = std::move(*listed);
  std::vector<Alarm> alarms;
  if (auto listed = client.alarms(answered->endpoint)) alarms = std::move(*listed);
  for (auto& row : view) {
    const std::uint64_t id = member_id_of(row, members);
    if (id == 0) continue;
    for (const auto& member : members) {
      if (member.id == id) row.name = member.name;
    }
    for (const auto& a : alarms) {
      if (a.member_id == id) row.alarms.push_back(a.type);
    }
  }
}

}  // namespace

std::vector<MemberSnapshot> fetch_cluster_view(ClusterClient& client,
                                               const std::vector<std::string>& endpoints,
                                               const ViewOptions& options) {
  std::vector<std::future<Fetched>> futures;
  futures.reserve(endpoints.size());
  for (const auto& ep : endpoints) {
    futures.push_back(std::async(
        std::launch::async, [&client, &options, ep] { return fetch_member(client, options, ep); }));
  }
  std::vector<MemberSnapshot> view;
  view.reserve(endpoints.size());
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    view.push_back(snapshot_of(endpoints[i], futures[i].get(), options));
  }
  add_names_and_alarms(client, view);
  return view;
}

}  // namespace edd::etcd
