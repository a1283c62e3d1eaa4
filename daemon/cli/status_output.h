// Renders a cluster view for people (an etcdctl-style table, sizes in SI units) and for machines
// (JSON with etcd's camelCase names, sizes in exact bytes). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "etcd/cluster_view.h"
#include "policy/reclaim_floor.h"

namespace edd::cli {

// With a reclaim floor (--min-reclaim), each member's expected reclaim says whether the floor
// would hold its defrag back (the rule aside: status does not evaluate it); none under NOSPACE.
std::string render_status_table(const std::vector<etcd::MemberSnapshot>& view,
                                const policy::ReclaimFloor& floor = {});
std::string render_status_json(const std::vector<etcd::MemberSnapshot>& view,
                               const policy::ReclaimFloor& floor = {});

// A bordered text table like etcdctl's `-w table`.
std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

}  // namespace edd::cli
