#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "usage/usage.h"

using edd::etcd::ScannedKey;
using edd::usage::group_of;
using edd::usage::GroupBy;
using edd::usage::Grouping;
using edd::usage::summarize;

TEST_CASE("usage groups Kubernetes keys by resource by default", "[usage]") {
  const Grouping g;
  CHECK(group_of("/registry/pods/default/web-0", g) == "/registry/pods");
  CHECK(group_of("/registry/nodes/node-1", g) == "/registry/nodes");
  CHECK(group_of("/registry/ranges/serviceips", g) == "/registry/ranges");
  CHECK(group_of("/registry/cilium.io/ciliumendpoints/kube-system/ep-1", g) ==
        "/registry/cilium.io/ciliumendpoints");
  CHECK(group_of("/registry/apiregistration.k8s.io/apiservices/v1.apps", g) ==
        "/registry/apiregistration.k8s.io/apiservices");
  CHECK(group_of("/registry/services/specs/default/kubernetes", g) == "/registry/services/specs");
  CHECK(group_of("/registry/services/endpoints/default/kubernetes", g) ==
        "/registry/services/endpoints");
  // Outside /registry: the first segment; a key with no slash is its own group.
  CHECK(group_of("/calico/ipam/v2/host/a", g) == "/calico");
  CHECK(group_of("/registry", g) == "/registry");
  CHECK(group_of("compact_rev_key", g) == "compact_rev_key");
}

TEST_CASE("usage --by namespace splits namespaced resources and keeps cluster-scoped ones whole",
          "[usage]") {
  const Grouping g{GroupBy::kNamespace, 0};
  CHECK(group_of("/registry/pods/default/web-0", g) == "/registry/pods/default");
  CHECK(group_of("/registry/secrets/kube-system/token", g) == "/registry/secrets/kube-system");
  CHECK(group_of("/registry/nodes/node-1", g) == "/registry/nodes");
  CHECK(group_of("/registry/cilium.io/ciliumendpoints/kube-system/ep-1", g) ==
        "/registry/cilium.io/ciliumendpoints/kube-system");
  CHECK(group_of("/registry/cilium.io/ciliumnodes/node-1", g) == "/registry/cilium.io/ciliumnodes");
  CHECK(group_of("/registry/services/specs/default/kubernetes", g) ==
        "/registry/services/specs/default");
  CHECK(group_of("/other/a/b/c", g) == "/other");
}

TEST_CASE("usage --depth N groups by the first N path segments", "[usage]") {
  CHECK(group_of("/registry/pods/default/web-0", Grouping{GroupBy::kResource, 1}) == "/registry");
  CHECK(group_of("/registry/pods/default/web-0", Grouping{GroupBy::kNamespace, 2}) ==
        "/registry/pods");
  CHECK(group_of("/registry/pods/default/web-0", Grouping{GroupBy::kResource, 3}) ==
        "/registry/pods/default");
  CHECK(group_of("/registry/pods/default/web-0", Grouping{GroupBy::kResource, 9}) ==
        "/registry/pods/default/web-0");
  CHECK(group_of("a/b/c", Grouping{GroupBy::kResource, 2}) == "a/b");
}

TEST_CASE("usage sums keys, value bytes and revisions per group, the largest first", "[usage]") {
  const std::vector<ScannedKey> keys = {
      {"/registry/pods/a/p1", 100, 3},
      {"/registry/pods/b/p2", 200, 1},
      {"/registry/events/a/e1", 50, 1},
      {"/registry/events/a/e2", 50, 1},
      {"/registry/events/a/e3", 50, 1},
      {"/registry/configmaps/a/c", 1000, 7},
      {"/other/x", 0, 1},
  };
  const auto s = summarize(keys, Grouping{}, 0);
  REQUIRE(s.groups.size() == 4);
  CHECK(s.groups[0].prefix == "/registry/configmaps");
  CHECK(s.groups[0].value_bytes == 1000);
  CHECK(s.groups[0].revisions == 7);
  CHECK(s.groups[1].prefix == "/registry/pods");
  CHECK(s.groups[1].keys == 2);
  CHECK(s.groups[1].value_bytes == 300);
  CHECK(s.groups[1].revisions == 4);
  CHECK(s.groups[2].prefix == "/registry/events");
  CHECK(s.groups[2].keys == 3);
  CHECK(s.groups[3].prefix == "/other");
  CHECK(s.total.keys == 7);
  CHECK(s.total.value_bytes == 1450);
  CHECK(s.total.revisions == 15);
  CHECK(s.other_groups == 0);
  CHECK(s.other.keys == 0);
}

TEST_CASE("usage --top N keeps the N largest and puts the rest in other", "[usage]") {
  const std::vector<ScannedKey> keys = {
      {"/a/1", 10, 1}, {"/b/1", 30, 1}, {"/c/1", 20, 1}, {"/d/1", 5, 2}, {"/d/2", 5, 2},
  };
  const auto s = summarize(keys, Grouping{}, 2);
  REQUIRE(s.groups.size() == 2);
  CHECK(s.groups[0].prefix == "/b");
  CHECK(s.groups[1].prefix == "/c");
  CHECK(s.other_groups == 2);
  CHECK(s.other.keys == 3);
  CHECK(s.other.value_bytes == 20);
  CHECK(s.other.revisions == 5);
  CHECK(s.total.keys == 5);
  CHECK(s.total.value_bytes == 70);
}

TEST_CASE("usage ranks equal bytes by keys, then by name", "[usage]") {
  const std::vector<ScannedKey> keys = {
      {"/z/1", 0, 1}, {"/y/1", 0, 1}, {"/y/2", 0, 1}, {"/x/1", 0, 1}};
  const auto s = summarize(keys, Grouping{}, 0);
  REQUIRE(s.groups.size() == 3);
  CHECK(s.groups[0].prefix == "/y");
  CHECK(s.groups[1].prefix == "/x");
  CHECK(s.groups[2].prefix == "/z");
}
