#include "usage/usage.h"

#include <algorithm>

namespace edd::usage {
namespace {

// The end (exclusive) of the key's first n segments, or npos when it has no more than n.
std::size_t end_of_segments(std::string_view key, std::size_t n) {
  std::size_t pos = key.starts_with('/') ? 1 : 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t slash = key.find('/', pos);
    if (slash == std::string_view::npos) return std::string_view::npos;
    if (i + 1 == n) return slash;
    pos = slash + 1;
  }
  return std::string_view::npos;
}

std::string first_segments(std::string_view key, std::size_t n) {
  const std::size_t end = end_of_segments(key, n);
  return std::string(end == std::string_view::npos ? key : key.substr(0, end));
}

std::size_t segment_count(std::string_view key) {
  std::string_view rest = key.starts_with('/') ? key.substr(1) : key;
  return static_cast<std::size_t>(std::count(rest.begin(), rest.end(), '/')) + 1;
}

std::string kubernetes_group(std::string_view key, GroupBy by) {
  constexpr std::string_view kRegistry = "/registry/";
  if (!key.starts_with(kRegistry)) return first_segments(key, 1);
  // /registry/<resource>, or /registry/<api group>/<resource> for an API group (has a dot).
  std::size_t resource_segments = 2;
  const std::string_view second = key.substr(kRegistry.size());
  const std::string_view second_name = second.substr(0, second.find('/'));
  // Services are the one core resource kept one level deeper: /registry/services/specs/<ns>/<name>
  // and /registry/services/endpoints/<ns>/<name>.
  if (second_name.find('.') != std::string_view::npos || second_name == "services") {
    resource_segments = 3;
  }
  // A namespaced object has two segments below its resource (namespace, name); a cluster-scoped
  // one has one (name), and its own name must not become a group.
  if (by == GroupBy::kNamespace && segment_count(key) >= resource_segments + 2) {
    return first_segments(key, resource_segments + 1);
  }
  return first_segments(key, resource_segments);
}

bool larger(const PrefixUsage& a, const PrefixUsage& b) {
  if (a.value_bytes != b.value_bytes) return a.value_bytes > b.value_bytes;
  if (a.keys != b.keys) return a.keys > b.keys;
  return a.prefix < b.prefix;
}

}  // namespace

std::string group_of(std::string_view key, const Grouping& grouping) {
  if (grouping.depth > 0) return first_segments(key, static_cast<std::size_t>(grouping.depth));
  return kubernetes_group(key, grouping.by);
}

void PrefixUsage::add(const PrefixUsage& other) {
  keys += other.keys;
  value_bytes += other.value_bytes;
  revisions += other.revisions;
}

void UsageAggregator::add(const etcd::ScannedKey& key) {
  std::string group = group_of(key.key, grouping_);
  auto it = groups_.find(group);
  if (it == groups_.end()) {
    it = groups_.emplace(group, PrefixUsage{}).first;
    it->second.prefix = std::move(group);
  }
  it->second.add({"", 1, key.value_bytes, key.version});
}

UsageSummary UsageAggregator::summary(std::size_t top) const {
  UsageSummary out;
  out.total.prefix = "total";
  out.other.prefix = "other";
  out.groups.reserve(groups_.size());
  for (const auto& [name, usage] : groups_) {
    out.groups.push_back(usage);
    out.total.add(usage);
  }
  std::sort(out.groups.begin(), out.groups.end(), larger);
  if (top > 0 && out.groups.size() > top) {
    for (std::size_t i = top; i < out.groups.size(); ++i) out.other.add(out.groups[i]);
    out.other_groups = out.groups.size() - top;
    out.groups.resize(top);
  }
  return out;
}

UsageSummary summarize(const std::vector<etcd::ScannedKey>& keys, const Grouping& grouping,
                       std::size_t top) {
  UsageAggregator aggregator(grouping);
  for (const auto& k : keys) aggregator.add(k);
  return aggregator.summary(top);
}

}  // namespace edd::usage
