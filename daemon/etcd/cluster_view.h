// One consistent look at the cluster: which endpoints to talk to (--cluster discovery), every
// member's status fetched in parallel, its name, its alarms and its quota with where that quota
// came from. An unreachable member is a row with an error, never an exception.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "etcd/cluster_client.h"
#include "etcd/member_snapshot.h"
#include "etcd/types.h"

namespace edd::etcd {

// With cluster=false: the seeds, de-duplicated. With cluster=true: the client URLs of every
// member in the first seed's MemberList (learners included; the status marks them).
Result<std::vector<std::string>> discover_endpoints(ClusterClient& client,
                                                    const std::vector<std::string>& seeds,
                                                    bool cluster);

// Reads a member's quota from its own metrics (etcd_server_quota_backend_bytes); nullopt when
// unreachable. Injected so tests and callers without HTTP can leave it out.
using QuotaProbe = std::function<std::optional<std::int64_t>(const std::string& endpoint)>;

struct ViewOptions {
  std::int64_t flag_quota_bytes = 2LL * 1024 * 1024 * 1024;  // --etcd-storage-quota-bytes
  QuotaProbe quota_probe;                                    // may be empty
};

// Status of every endpoint in parallel (a slow member delays no other), member names and
// alarms from the first member that answers, and the quota per member: the status field on
// etcd 3.6+, else the member's metric, else the flag.
std::vector<MemberSnapshot> fetch_cluster_view(ClusterClient& client,
                                               const std::vector<std::string>& endpoints,
                                               const ViewOptions& options);

}  // namespace edd::etcd
