// Which etcd the real-cluster tests run. One place decides: EDD_ETCD_VERSION (3.4, 3.5, 3.6,
// 3.7, or an exact version such as 3.6.4), default 3.6. scripts/install-etcd-versions.sh builds
// the binaries into EDD_CACHE_DIR (default ~/.cache/etcd-defragd)/etcd-<version>/; 3.4 is
// Debian's. Also knows each version's flag spellings. Thread-safe (resolved once, then const).
#pragma once

#include <string>
#include <vector>

namespace edd::test {

struct EtcdRelease {
  std::string requested;  // as asked for: "3.6", "3.6.4"
  std::string dir;        // holds etcd and etcdctl
  int major = 0;
  int minor = 0;
  int patch = 0;  // from `etcd --version`

  std::string etcd() const { return dir + "/etcd"; }
  std::string etcdctl() const { return dir + "/etcdctl"; }
  std::string version() const;  // "3.6.16"
  // True when this release is at least major.minor.patch.
  bool at_least(int major, int minor, int patch = 0) const;
};

// The default version: EDD_ETCD_VERSION, or 3.6.
std::string default_etcd_version();

// Resolves a version ("" = the default). Throws std::runtime_error naming the directory and the
// install script when the binaries are not there.
const EtcdRelease& etcd_release(const std::string& version = "");

// The flags that turn on StopGRPCServiceOnDefrag (the member answers NOT_SERVING to gRPC health
// checks while it defragments): 3.6+ --feature-gates, 3.5.14+ an --experimental- flag. Empty for
// a release that does not have it.
std::vector<std::string> stop_grpc_service_on_defrag_flags(const EtcdRelease& release);

// Where the reference etcd-defrag is: EDD_ETCD_DEFRAG when set, else <cache>/etcd-defrag. Empty
// when that file is not executable (the module proxy may not serve it); a set EDD_ETCD_DEFRAG
// never falls back to the cache, so EDD_ETCD_DEFRAG=/nonexistent shows the compat tests' skip.
std::string etcd_defrag_binary();

// EDD_CACHE_DIR, else $XDG_CACHE_HOME/etcd-defragd, else ~/.cache/etcd-defragd.
std::string etcd_cache_dir();

}  // namespace edd::test
