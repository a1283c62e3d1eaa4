// `etcd-defragd usage` against a real 3-member cluster seeded with a Kubernetes-like layout,
// checked against the operators' etcdctl pipeline and the sizes the test wrote.
#include <catch2/catch.hpp>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "harness/etcd_cluster.h"
#include "support/edd_cli.h"

using namespace edd::test;
namespace json = boost::json;

namespace {

struct Seeded {
  std::string key;
  std::size_t value_bytes;
  int writes;  // the key's version once seeded
};

// Several namespaced resources in three namespaces, a cluster-scoped one, a custom resource
// under its API group, and keys outside /registry; value sizes differ per resource and key.
std::vector<Seeded> kubernetes_layout() {
  std::vector<Seeded> out;
  const std::vector<std::string> namespaces = {"default", "kube-system", "team-a"};
  const std::vector<std::pair<std::string, int>> resources = {
      {"pods", 9}, {"configmaps", 4}, {"events", 15}, {"secrets", 3}};
  for (std::size_t r = 0; r < resources.size(); ++r) {
    for (std::size_t n = 0; n < namespaces.size(); ++n) {
      for (int i = 0; i < resources[r].second + static_cast<int>(n); ++i) {
        out.push_back(
            {"/registry/" + resources[r].first + "/" + namespaces[n] + "/obj-" + std::to_string(i),
             200 + 300 * r + 17 * static_cast<std::size_t>(i), 1 + i % 3});
      }
    }
  }
  for (int i = 0; i < 5; ++i) out.push_back({"/registry/nodes/node-" + std::to_string(i), 3000, 2});
  for (int i = 0; i < 6; ++i) {
    out.push_back({"/registry/cilium.io/ciliumendpoints/team-a/ep-" + std::to_string(i), 900, 1});
  }
  for (const char* kind : {"specs", "endpoints"}) {
    out.push_back({std::string("/registry/services/") + kind + "/default/kubernetes", 700, 2});
  }
  for (int i = 0; i < 7; ++i) out.push_back({"/calico/ipam/v2/block-" + std::to_string(i), 64, 1});
  out.push_back({"/other/app/config", 10, 1});
  return out;
}

// Writes every key (one etcdctl txn per 100 puts); a key written w times has version w.
void seed(const EtcdCluster& cluster, const std::vector<Seeded>& keys) {
  for (int round = 1; round <= 3; ++round) {
    std::vector<std::string> ops;
    for (const auto& k : keys) {
      if (k.writes >= round) ops.push_back("put " + k.key + " " + std::string(k.value_bytes, 'v'));
    }
    for (std::size_t i = 0; i < ops.size(); i += 100) {
      std::string txn = "\n";
      for (std::size_t j = i; j < std::min(ops.size(), i + 100); ++j) txn += ops[j] + "\n";
      txn += "\n\n";
      const CommandResult r = cluster.etcdctl({"txn"}, "", txn);
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
    }
  }
}

struct Totals {
  std::int64_t keys = 0, value_bytes = 0, revisions = 0;
};

std::map<std::string, Totals> expected_groups(
    const std::vector<Seeded>& keys, const std::function<std::string(const std::string&)>& group) {
  std::map<std::string, Totals> out;
  for (const auto& k : keys) {
    Totals& t = out[group(k.key)];
    ++t.keys;
    t.value_bytes += static_cast<std::int64_t>(k.value_bytes);
    t.revisions += k.writes;
  }
  return out;
}

std::map<std::string, Totals> groups_of(const json::object& report) {
  std::map<std::string, Totals> out;
  for (const auto& g : report.at("groups").as_array()) {
    const auto& o = g.as_object();
    out[json::value_to<std::string>(o.at("prefix"))] = {
        o.at("keys").to_number<std::int64_t>(), o.at("value_bytes").to_number<std::int64_t>(),
        o.at("revisions").to_number<std::int64_t>()};
  }
  return out;
}

// One line per group, so a failed comparison shows both sides.
std::string text_of(const std::map<std::string, Totals>& groups) {
  std::ostringstream os;
  for (const auto& [prefix, t] : groups) {
    os << prefix << ": keys " << t.keys << ", bytes " << t.value_bytes << ", revisions "
       << t.revisions << "\n";
  }
  return os.str();
}

std::string first_segments(const std::string& key, int n) {
  std::size_t pos = 0;
  for (int i = 0; i < n; ++i) {
    pos = key.find('/', pos + 1);
    if (pos == std::string::npos) return key;
  }
  return key.substr(0, pos);
}

json::object usage_json(const EtcdCluster& cluster, const std::vector<std::string>& flags) {
  std::vector<std::string> args = {
      "usage", "--endpoints", cluster.client_endpoint(1), "-w", "json", "--page-size", "7"};
  args.insert(args.end(), flags.begin(), flags.end());
  const CommandResult r = run_edd(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return parse_json(r.out).as_object();
}

}  // namespace

TEST_CASE(
    "usage counts the same keys per prefix as the operators' etcdctl pipeline, and the "
    "bytes written",
    "[usage]") {
  auto cluster = EtcdCluster::start(ClusterOptions{});
  const auto keys = kubernetes_layout();
  seed(*cluster, keys);

  // The runbook's pipeline, with Debian's etcdctl, against the same member.
  const CommandResult pipeline =
      run_command({"bash", "-o", "pipefail", "-c",
                   "etcdctl --endpoints " + cluster->client_endpoint(1) +
                       " get / --prefix --keys-only | sed '/^$/d' | cut -d/ -f3 | sort | uniq -c"},
                  std::chrono::seconds(60));
  INFO(pipeline.err);
  REQUIRE(pipeline.exit_code == 0);
  std::map<std::string, std::int64_t> by_pipeline;
  std::istringstream lines(pipeline.out);
  std::int64_t count = 0;
  std::string name;
  while (lines >> count >> name) by_pipeline[name] += count;

  // --depth 2 groups like `cut -d/ -f3`: /registry/pods is "pods", /calico/ipam is "ipam".
  const json::object depth2 = usage_json(*cluster, {"--depth", "2", "--top", "0"});
  std::map<std::string, std::int64_t> by_usage;
  for (const auto& [prefix, totals] : groups_of(depth2)) {
    by_usage[prefix.substr(prefix.rfind('/') + 1)] += totals.keys;
  }
  CHECK(by_usage == by_pipeline);
  CHECK(by_pipeline.at("pods") == 30);
  CHECK(by_pipeline.at("ipam") == 7);

  // The default, Kubernetes-aware grouping: keys, bytes and versions as seeded.
  const json::object by_resource = usage_json(*cluster, {"--top", "0"});
  const auto expected = expected_groups(keys, [](const std::string& k) {
    if (k.starts_with("/registry/cilium.io/") || k.starts_with("/registry/services/")) {
      return first_segments(k, 3);
    }
    if (k.starts_with("/registry/")) return first_segments(k, 2);
    return first_segments(k, 1);
  });
  CHECK(text_of(groups_of(by_resource)) == text_of(expected));
  const auto all = expected_groups(keys, [](const std::string&) { return std::string("all"); });
  const auto& total = by_resource.at("total").as_object();
  CHECK(total.at("keys").to_number<std::int64_t>() == all.at("all").keys);
  CHECK(total.at("value_bytes").to_number<std::int64_t>() == all.at("all").value_bytes);
  CHECK(total.at("revisions").to_number<std::int64_t>() == all.at("all").revisions);
  // Largest first.
  const auto& groups = by_resource.at("groups").as_array();
  for (std::size_t i = 1; i < groups.size(); ++i) {
    CHECK(groups[i - 1].at("value_bytes").to_number<std::int64_t>() >=
          groups[i].at("value_bytes").to_number<std::int64_t>());
  }
  // Every page after the first was read at the first page's revision (pages of 7 keys).
  CHECK(by_resource.at("pages").to_number<std::int64_t>() >= all.at("all").keys / 7);
}

TEST_CASE("usage --by namespace, --prefix and --top on a real cluster", "[usage]") {
  auto cluster = EtcdCluster::start(ClusterOptions{});
  const auto keys = kubernetes_layout();
  seed(*cluster, keys);

  const json::object by_ns = usage_json(*cluster, {"--by", "namespace", "--top", "0"});
  const auto groups = groups_of(by_ns);
  CHECK(groups.at("/registry/pods/default").keys == 9);
  CHECK(groups.at("/registry/pods/team-a").keys == 11);
  CHECK(groups.at("/registry/cilium.io/ciliumendpoints/team-a").keys == 6);
  CHECK(groups.at("/registry/nodes").keys == 5);  // cluster-scoped: not split by name
  CHECK(groups.count("/registry/nodes/node-0") == 0);
  CHECK(groups.at("/registry/services/specs/default").keys == 1);

  const json::object events =
      usage_json(*cluster, {"--prefix", "/registry/events/", "--by", "namespace", "--top", "2"});
  CHECK(events.at("total").at("keys").to_number<std::int64_t>() == 15 + 16 + 17);
  CHECK(events.at("groups").as_array().size() == 2);
  CHECK(events.at("other").at("prefixes").to_number<std::int64_t>() == 1);

  // The table: the largest prefix first, the rest as other, the totals and the scan's time.
  const CommandResult table =
      run_edd({"usage", "--endpoints", cluster->client_endpoint(0), "--top", "3", "--revisions"});
  INFO(table.out << table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("| /registry/events ") != std::string::npos);
  CHECK(table.out.find("other (7 prefixes)") != std::string::npos);
  CHECK(table.out.find("REVISIONS") != std::string::npos);
  CHECK(table.out.find("| TOTAL ") != std::string::npos);
  CHECK(table.out.find("scanned " + std::to_string(keys.size()) + " keys") != std::string::npos);
  CHECK(table.out.find(" s\n") != std::string::npos);
}

TEST_CASE("usage with a bad flag value says which in one line and exits 2", "[usage]") {
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"--page-size", "0"},
                                              {"--by", "zone"},
                                              {"--rate", "-1"},
                                              {"--depth", "0"},
                                              {"--by", "namespace", "--depth", "2"},
                                              {"--dial-timeout", "soon"},
                                              {"--cluster"}}) {
    std::vector<std::string> args = {"usage", "--endpoints", "127.0.0.1:1"};
    args.insert(args.end(), bad.begin(), bad.end());
    const CommandResult r = run_edd(args, std::chrono::seconds(20));
    INFO(bad.front() << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(bad.back() == "2" ? "--depth" : bad.front()) != std::string::npos);
  }
}
