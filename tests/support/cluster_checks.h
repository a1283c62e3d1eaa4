// Shared checks for the defrag integration tests: what etcd's own logs say about the order and
// overlap of defrags, and whether a revision is still readable (i.e. not compacted).
#pragma once

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/etcd_cluster.h"
#include "support/edd_cli.h"

namespace edd::test {

inline ClusterOptions cluster_options(std::int64_t quota = 0,
                                      Security security = Security::kPlain) {
  ClusterOptions o;
  o.quota_backend_bytes = quota;
  o.security = security;
  return o;
}

// The members in the order etcd finished defragmenting them, checking from the logs that no two
// defrags overlapped (each "starting" is followed by the same member's "finished").
inline std::vector<int> defrag_order_from_logs(const EtcdCluster& cluster) {
  const auto events = cluster.defrag_events();
  std::vector<int> order;
  for (std::size_t i = 0; i < events.size(); i += 2) {
    INFO("event " << i << ": member " << events[i].member << " " << events[i].msg);
    REQUIRE(events[i].msg == "starting defragment");
    REQUIRE(i + 1 < events.size());
    REQUIRE(events[i + 1].msg == "finished defragment");
    REQUIRE(events[i + 1].member == events[i].member);
    order.push_back(events[i].member);
  }
  return order;
}

inline int leader_index(const EtcdCluster& cluster) {
  const auto st = cluster.endpoint_status();
  for (std::size_t i = 0; i < st.size(); ++i) {
    if (st[i].is_leader()) return static_cast<int>(i);
  }
  FAIL("no leader");
  return -1;
}

// True when the value of key at revision can still be read: nothing compacted past it.
inline bool revision_readable(const EtcdCluster& cluster, const std::string& key,
                              std::int64_t revision, const std::string& endpoints = "") {
  const CommandResult r =
      cluster.etcdctl({"get", key, "--rev=" + std::to_string(revision)}, endpoints);
  return r.exit_code == 0;
}

inline std::int64_t current_revision(const EtcdCluster& cluster, const std::string& endpoint) {
  return cluster.endpoint_status(endpoint).front().revision;
}

// Overwrites one key until etcd refuses with NOSPACE; returns true when it did.
inline bool fill_until_nospace(const EtcdCluster& cluster, std::size_t value_bytes = 512 * 1024) {
  const std::string value(value_bytes, 'x');
  for (int i = 0; i < 400; ++i) {
    const CommandResult r = cluster.etcdctl({"put", "/fill/key"}, "", value);
    if (r.exit_code != 0) return r.err.find("database space exceeded") != std::string::npos;
  }
  return false;
}

}  // namespace edd::test
