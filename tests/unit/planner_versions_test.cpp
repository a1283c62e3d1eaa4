// What the members' etcd versions tell a run: known defragmentation bugs per release, and a
// rolling upgrade or a downgrade in progress, from the members' statuses.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "defrag/versions.h"

using Catch::Matchers::Contains;
using edd::defrag::detect_version_change;
using edd::defrag::known_defrag_bugs;
using edd::defrag::parse_etcd_version;
using edd::defrag::VersionChange;
using edd::etcd::MemberSnapshot;
using edd::etcd::MemberStatus;

namespace {

MemberSnapshot member(const std::string& endpoint, const std::string& version) {
  MemberStatus st;
  st.endpoint = endpoint;
  st.version = version;
  MemberSnapshot m;
  m.endpoint = endpoint;
  m.status = st;
  return m;
}

std::vector<std::string> issues_of(const std::string& version) {
  std::vector<std::string> issues;
  for (const auto& bug : known_defrag_bugs(version)) issues.push_back(bug.issue);
  return issues;
}

}  // namespace

TEST_CASE("etcd versions parse with or without a pre-release suffix", "[versions]") {
  CHECK(parse_etcd_version("3.6.16") == edd::defrag::EtcdVersion{3, 6, 16});
  CHECK(parse_etcd_version("3.7.0-rc.0") == edd::defrag::EtcdVersion{3, 7, 0});
  CHECK_FALSE(parse_etcd_version(""));
  CHECK_FALSE(parse_etcd_version("3.6"));
  CHECK_FALSE(parse_etcd_version("3.6.x"));
  CHECK_FALSE(parse_etcd_version("v3.6.1"));
}

TEST_CASE("known defragmentation bugs follow each release line's fixed version", "[versions]") {
  using V = std::vector<std::string>;
  CHECK(issues_of("3.4.23") == V{});
  CHECK(issues_of("3.5.5") == V{"etcd#14733", "etcd#18842", "etcd#20653"});
  CHECK(issues_of("3.5.6") == V{"etcd#18842", "etcd#20653"});
  CHECK(issues_of("3.5.17") == V{"etcd#20653"});
  CHECK(issues_of("3.5.22") == V{"etcd#20653"});
  CHECK(issues_of("3.5.23") == V{});
  CHECK(issues_of("3.5.35") == V{});
  CHECK(issues_of("3.6.0") == V{"etcd#20653"});
  CHECK(issues_of("3.6.4") == V{"etcd#20653"});
  CHECK(issues_of("3.6.5") == V{});
  CHECK(issues_of("3.7.3") == V{});
  CHECK(issues_of("not a version") == V{});
  auto bugs = known_defrag_bugs("3.6.4");
  REQUIRE(bugs.size() == 1);
  CHECK(bugs[0].fixed_in == "3.6.5");
  CHECK(edd::defrag::describe_bug("3.6.4", bugs[0]) ==
        "etcd 3.6.4 has etcd#20653 (a defragmentation racing a snapshot being applied can "
        "corrupt the member), fixed in 3.6.5");
}

TEST_CASE("members on one minor version are no version change, patch releases may differ",
          "[versions]") {
  auto v = detect_version_change(
      {member("a:1", "3.6.16"), member("b:1", "3.6.4"), member("c:1", "3.6.16")});
  CHECK(v.change == VersionChange::kNone);
  CHECK(v.reason.empty());
}

TEST_CASE("members on two minor versions are an upgrade in progress, naming who runs what",
          "[versions]") {
  auto v = detect_version_change(
      {member("a:1", "3.5.35"), member("b:1", "3.6.16"), member("c:1", "3.5.35")});
  CHECK(v.change == VersionChange::kUpgrade);
  CHECK(v.reason ==
        "members run different etcd versions (an upgrade is in progress): a:1 3.5.35, c:1 3.5.35; "
        "b:1 3.6.16");
}

TEST_CASE("a member that did not answer or reports no version does not make a version change",
          "[versions]") {
  MemberSnapshot down;
  down.endpoint = "c:1";
  auto v = detect_version_change({member("a:1", "3.6.16"), member("b:1", ""), down});
  CHECK(v.change == VersionChange::kNone);
}

TEST_CASE("a downgrade enabled on any member is a downgrade in progress", "[versions]") {
  auto m = member("b:1", "3.6.16");
  m.status->downgrade_enabled = true;
  m.status->downgrade_target_version = "3.5.0";
  auto v = detect_version_change({member("a:1", "3.6.16"), m});
  CHECK(v.change == VersionChange::kDowngrade);
  CHECK_THAT(v.reason, Contains("a downgrade to 3.5.0 is in progress"));
  CHECK_THAT(v.reason, Contains("b:1"));
}

TEST_CASE("version warnings name each known bug once with its members, then a version change",
          "[versions]") {
  auto lines = edd::defrag::version_warnings(
      {member("a:1", "3.6.4"), member("b:1", "3.6.16"), member("c:1", "3.6.4")});
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Contains("etcd 3.6.4 has etcd#20653"));
  CHECK_THAT(lines[0], Contains("fixed in 3.6.5: members a:1, c:1"));

  lines = edd::defrag::version_warnings({member("a:1", "3.5.35"), member("b:1", "3.6.16")});
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Contains("an upgrade is in progress"));
  CHECK(edd::defrag::version_warnings({member("a:1", "3.6.16")}).empty());
}
