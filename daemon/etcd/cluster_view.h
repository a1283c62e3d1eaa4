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
#include "etcd/types.h"

namespace edd::etcd {

enum class QuotaSource { kStatus, kMetrics, kFlag };
std::string quota_source_name(QuotaSource source);  // "status", "metrics", "flag"

struct MemberSnapshot {
  std::string endpoint;
  std::optional<MemberStatus> status;  // empty when the member did not answer
  std::string error;                   // why status is empty
  std::string name;                    // from MemberList; empty if unknown
  std::vector<AlarmType> alarms;       // alarms raised by this member
  std::int64_t quota_bytes = 0;
  QuotaSource quota_source = QuotaSource::kFlag;

  std::int64_t db_size_free() const {
    return status ? status->db_size - status->db_size_in_use : 0;
  }
  double quota_usage() const {
    return status && quota_bytes > 0
               ? static_cast<double>(status->db_size) / static_cast<double>(quota_bytes)
               : 0.0;
  }
};

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
