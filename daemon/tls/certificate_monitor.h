// The daemon's watch on certificate expiry: the client certificate it uses and each member's
// serving certificate, read at start, after a reload, when the members change and every hour,
// in the background so that a hanging handshake never delays a poll. CertificateTracker is the
// pure part (what a round of probes means: series and log lines, once per change);
// CertificateMonitor runs the probes. Both thread-safe (one mutex each).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tls/certificate_probe.h"

namespace edd::tls {

// One series of etcd_defragd_certificate_expiry_timestamp_seconds.
struct CertificateExpiry {
  std::string certificate;  // "client" or "server"
  std::string member;       // "" for the client certificate
  std::string endpoint;     // "" for the client certificate
  std::int64_t not_after_unix = 0;
};

struct MemberEndpoint {
  std::string endpoint;
  std::string name;  // "" when unknown: the endpoint names the member then
};

struct MemberProbe {
  MemberEndpoint member;
  ServerCertificate result;
};

struct LogLine {
  bool warning = false;
  std::string text;
};

class CertificateTracker {
 public:
  // The client certificate in use (empty: none configured); logged when it changes.
  std::vector<LogLine> set_client(std::optional<std::int64_t> not_after_unix,
                                  std::int64_t now_unix);
  // One round of probes over every TLS member: members absent from the round lose their
  // series; a member whose handshake showed no certificate loses its series too (unknown, not
  // stale). A failure is logged once until its text changes or the member recovers.
  std::vector<LogLine> record(const std::vector<MemberProbe>& round, std::int64_t now_unix);
  std::vector<CertificateExpiry> series() const;

 private:
  struct Member {
    std::string name;
    std::optional<std::int64_t> not_after;
    std::string error;
  };
  mutable std::mutex mu_;
  std::optional<std::int64_t> client_;     // guarded by mu_
  std::map<std::string, Member> members_;  // guarded by mu_, by endpoint
};

class CertificateMonitor {
 public:
  using Probe = std::function<ServerCertificate(const std::string& endpoint)>;
  using Publish = std::function<void(const std::vector<CertificateExpiry>&)>;
  using Say = std::function<void(const LogLine&)>;

  CertificateMonitor(Publish publish, Say say, std::chrono::seconds period = std::chrono::hours(1));
  ~CertificateMonitor();  // waits for a check in flight (bounded by the probe timeout)
  CertificateMonitor(const CertificateMonitor&) = delete;
  CertificateMonitor& operator=(const CertificateMonitor&) = delete;

  // At start and on reload: the settings of the client just built; the next poll checks.
  void reset(const ProbeSettings& settings, std::int64_t now_unix);
  // After each poll: starts a background check when one is due (never two at once).
  void after_poll(const std::vector<MemberEndpoint>& members,
                  std::chrono::steady_clock::time_point now, std::int64_t now_unix);
  void wait();  // for tests: the check in flight, if any, has finished

  void set_probe(Probe probe);  // for tests; the default is probe_server_certificate

 private:
  void check(const std::vector<MemberEndpoint>& members, const Probe& probe, std::int64_t now);

  Publish publish_;
  Say say_;
  std::chrono::seconds period_;
  CertificateTracker tracker_;
  std::mutex mu_;
  std::optional<ProbeSettings> settings_;                      // guarded by mu_
  Probe probe_;                                                // guarded by mu_
  bool due_ = true;                                            // guarded by mu_
  std::optional<std::chrono::steady_clock::time_point> last_;  // guarded by mu_
  std::vector<std::string> last_endpoints_;                    // guarded by mu_
  std::future<void> in_flight_;                                // guarded by mu_
};

}  // namespace edd::tls
