// What the members' etcd versions mean for a defrag, decided from their statuses alone: a version
// change in progress (members on different minor versions mid-upgrade, or a downgrade enabled),
// and releases with known defragmentation bugs. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd/member_snapshot.h"

namespace edd::defrag {

struct EtcdVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const EtcdVersion&) const = default;
};
// "3.5.17" (a suffix such as "-rc.0" is ignored); empty for anything else.
std::optional<EtcdVersion> parse_etcd_version(std::string_view text);

struct KnownDefragBug {
  std::string issue;     // "etcd#20653"
  std::string fixed_in;  // "3.6.5"
  std::string summary;   // what can happen, one line
};
// The known defragmentation bugs of this release, oldest issue first; none for an unparsable one.
std::vector<KnownDefragBug> known_defrag_bugs(std::string_view version);
// "etcd 3.6.4 has etcd#20653 (…), fixed in 3.6.5"
std::string describe_bug(std::string_view version, const KnownDefragBug& bug);

enum class VersionChange { kNone, kUpgrade, kDowngrade };
std::string version_change_name(VersionChange change);  // "none", "upgrade", "downgrade"

struct VersionChangeVerdict {
  VersionChange change = VersionChange::kNone;
  std::string reason;  // one line naming the members and their versions; empty for kNone
};
// A downgrade is in progress when any member reports downgradeInfo.enabled (etcd 3.6+); an
// upgrade when the members that answered run more than one major.minor version (etcd itself
// runs such a cluster at the lowest version until the last member is upgraded).
VersionChangeVerdict detect_version_change(const std::vector<etcd::MemberSnapshot>& view);

// Every warning an operator should read before a defrag, one line each: each known bug with the
// members that run the affected release, then a version change in progress.
std::vector<std::string> version_warnings(const std::vector<etcd::MemberSnapshot>& view);

}  // namespace edd::defrag
