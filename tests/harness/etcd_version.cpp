#include "harness/etcd_version.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <stdexcept>

#include "harness/process.h"

namespace edd::test {
namespace {

namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

EtcdRelease resolve(const std::string& requested) {
  EtcdRelease release;
  release.requested = requested;
  // A line ("3.6") is a link to the release the install script pins; an exact version has its own
  // directory.
  const bool exact = std::count(requested.begin(), requested.end(), '.') == 2;
  release.dir = etcd_cache_dir() + (exact ? "/etcd-v" : "/etcd-") + requested;
  if (!fs::exists(release.etcd()) || !fs::exists(release.etcdctl())) {
    throw std::runtime_error("edd::test: etcd " + requested + " is not installed in " +
                             release.dir + "; run scripts/install-etcd-versions.sh");
  }
  CommandResult r = run_command({release.etcd(), "--version"}, std::chrono::seconds(30));
  std::smatch m;
  static const std::regex kVersion(R"(etcd Version: (\d+)\.(\d+)\.(\d+))");
  if (r.exit_code != 0 || !std::regex_search(r.out, m, kVersion)) {
    throw std::runtime_error("edd::test: " + release.etcd() + " --version said: " + r.out + r.err);
  }
  release.major = std::stoi(m[1]);
  release.minor = std::stoi(m[2]);
  release.patch = std::stoi(m[3]);
  return release;
}

}  // namespace

std::string EtcdRelease::version() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

bool EtcdRelease::at_least(int want_major, int want_minor, int want_patch) const {
  if (major != want_major) return major > want_major;
  if (minor != want_minor) return minor > want_minor;
  return patch >= want_patch;
}

std::string default_etcd_version() { return env_or("EDD_ETCD_VERSION", "3.6"); }

std::string etcd_cache_dir() {
  std::string xdg = env_or("XDG_CACHE_HOME", env_or("HOME", "/root") + "/.cache");
  return env_or("EDD_CACHE_DIR", xdg + "/etcd-defragd");
}

const EtcdRelease& etcd_release(const std::string& version) {
  static std::mutex mutex;
  static std::map<std::string, EtcdRelease> resolved;
  std::string requested = version.empty() ? default_etcd_version() : version;
  std::lock_guard lock(mutex);
  auto it = resolved.find(requested);
  if (it == resolved.end()) it = resolved.emplace(requested, resolve(requested)).first;
  return it->second;
}

std::vector<std::string> stop_grpc_service_on_defrag_flags(const EtcdRelease& release) {
  if (release.at_least(3, 6)) return {"--feature-gates=StopGRPCServiceOnDefrag=true"};
  if (release.at_least(3, 5, 14)) return {"--experimental-stop-grpc-service-on-defrag=true"};
  return {};
}

std::string etcd_defrag_binary() {
  std::string path = env_or("EDD_ETCD_DEFRAG", etcd_cache_dir() + "/etcd-defrag");
  return ::access(path.c_str(), X_OK) == 0 ? path : std::string();
}

}  // namespace edd::test
