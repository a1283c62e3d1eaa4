// Keys, value bytes and revisions grouped by prefix, largest first: the pure half of
// `etcd-defragd usage` and of the daemon's usage scan. Kubernetes-aware by default. Not
// thread-safe (one aggregator per scan).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "etcd/key_scanner.h"

namespace edd::usage {

enum class GroupBy {
  kResource,   // /registry/<resource> (or /registry/<api group>/<resource>); elsewhere /<first>
  kNamespace,  // /registry/<resource>/<namespace> for namespaced objects, else as kResource
};

struct Grouping {
  GroupBy by = GroupBy::kResource;
  int depth = 0;  // > 0: the key's first `depth` path segments instead, whatever `by` says
};

// The group of one key. Segments are split at '/', a leading '/' kept ("/registry/pods/ns/x"
// has the segments registry, pods, ns, x). A key with no more segments than the group would
// take is its own group. Kubernetes stores a namespaced object at
// /registry/<resource>/<namespace>/<name>, a cluster-scoped one at /registry/<resource>/<name>,
// and custom or aggregated resources under their API group, whose name has a dot
// (/registry/cilium.io/ciliumendpoints/<namespace>/<name>); services sit one level deeper too
// (/registry/services/specs/<namespace>/<name>, /registry/services/endpoints/...).
std::string group_of(std::string_view key, const Grouping& grouping);

struct PrefixUsage {
  std::string prefix;
  std::int64_t keys = 0;
  std::int64_t value_bytes = 0;
  std::int64_t revisions = 0;  // the sum of each key's version

  void add(const PrefixUsage& other);
};

struct UsageSummary {
  std::vector<PrefixUsage> groups;  // the largest first (value bytes, then keys, then name)
  PrefixUsage other;                // the groups beyond the top N together ("other")
  std::size_t other_groups = 0;     // how many groups `other` holds
  PrefixUsage total;                // every key scanned ("total")
};

class UsageAggregator {
 public:
  explicit UsageAggregator(Grouping grouping) : grouping_(grouping) {}
  void add(const etcd::ScannedKey& key);
  // top == 0: every group. Otherwise the first `top` and the rest in `other`.
  UsageSummary summary(std::size_t top) const;

 private:
  Grouping grouping_;
  std::map<std::string, PrefixUsage, std::less<>> groups_;
};

// The whole aggregation as one function: keys in, ranked groups out.
UsageSummary summarize(const std::vector<etcd::ScannedKey>& keys, const Grouping& grouping,
                       std::size_t top);

}  // namespace edd::usage
