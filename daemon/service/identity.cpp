#include "service/identity.h"

#include <systemd/sd-id128.h>
#include <unistd.h>

namespace edd::service {

namespace {

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
  return buf;
}

}  // namespace

std::string host_id() {
  // Fixed for etcd-defragd (made with `systemd-id128 new`); changing it changes every identity.
  constexpr sd_id128_t kApp =
      SD_ID128_MAKE(72, 4a, 00, 92, c8, a0, 40, 76, 92, 6e, 5d, e6, 37, ba, 2b, f1);
  sd_id128_t id;
  if (sd_id128_get_machine_app_specific(kApp, &id) < 0) return "";
  char text[SD_ID128_STRING_MAX];
  return std::string(sd_id128_to_string(id, text)).substr(0, 16);
}

std::string daemon_identity(const config::Config& c, const std::string& host_id) {
  return hostname() + " (" + c.etcd.local_endpoint + (host_id.empty() ? "" : ", host " + host_id) +
         ")";
}

std::string last_run_key(const std::string& lock_prefix) {
  const auto slash = lock_prefix.rfind('/');
  if (slash == std::string::npos || slash == 0) return lock_prefix + "-last-run";
  return lock_prefix.substr(0, slash) + "/last-run";
}

}  // namespace edd::service
