#include "tls/certificate_monitor.h"

#include <algorithm>

#include "tls/certificate_time.h"

namespace edd::tls {
namespace {

std::string who(const std::string& endpoint, const std::string& name) {
  return name.empty() ? endpoint : name + " (" + endpoint + ")";
}

std::string expires(std::int64_t not_after, std::int64_t now) {
  return "expires " + format_utc(not_after) + " (" + format_days_left(not_after, now) + ")";
}

}  // namespace

std::vector<LogLine> CertificateTracker::set_client(std::optional<std::int64_t> not_after_unix,
                                                    std::int64_t now_unix) {
  std::lock_guard l(mu_);
  if (client_ == not_after_unix) return {};
  client_ = not_after_unix;
  if (!client_) return {};
  return {{false, "certificate: the client certificate " + expires(*client_, now_unix)}};
}

std::vector<LogLine> CertificateTracker::record(const std::vector<MemberProbe>& round,
                                                std::int64_t now_unix) {
  std::lock_guard l(mu_);
  std::vector<LogLine> lines;
  std::map<std::string, Member> next;
  for (const auto& p : round) {
    const std::string& ep = p.member.endpoint;
    Member m{p.member.name, p.result.not_after_unix, p.result.error};
    const auto before = members_.find(ep);
    const bool known = before != members_.end();
    const std::string name = who(ep, m.name);
    if (!m.error.empty() && (!known || before->second.error != m.error)) {
      lines.push_back(
          {true, "certificate: the TLS handshake with " + name + " failed: " + m.error +
                     (m.not_after ? "; its certificate " + expires(*m.not_after, now_unix)
                                  : "; its expiry is unknown until it succeeds")});
    } else if (m.error.empty() && m.not_after &&
               (!known || before->second.not_after != m.not_after ||
                !before->second.error.empty())) {
      lines.push_back({false, "certificate: the serving certificate of " + name + " " +
                                  expires(*m.not_after, now_unix)});
    }
    next[ep] = std::move(m);
  }
  members_ = std::move(next);
  return lines;
}

std::vector<CertificateExpiry> CertificateTracker::series() const {
  std::lock_guard l(mu_);
  std::vector<CertificateExpiry> out;
  if (client_) out.push_back({"client", "", "", *client_});
  for (const auto& [endpoint, m] : members_) {
    if (m.not_after)
      out.push_back({"server", m.name.empty() ? endpoint : m.name, endpoint, *m.not_after});
  }
  return out;
}

CertificateMonitor::CertificateMonitor(Publish publish, Say say, std::chrono::seconds period)
    : publish_(std::move(publish)), say_(std::move(say)), period_(period) {}

CertificateMonitor::~CertificateMonitor() { wait(); }

void CertificateMonitor::wait() {
  std::future<void> f;
  {
    std::lock_guard l(mu_);
    f = std::move(in_flight_);
  }
  if (f.valid()) f.wait();
}

void CertificateMonitor::set_probe(Probe probe) {
  std::lock_guard l(mu_);
  probe_ = std::move(probe);
}

void CertificateMonitor::reset(const ProbeSettings& settings, std::int64_t now_unix) {
  {
    std::lock_guard l(mu_);
    settings_ = settings;
    due_ = true;
  }
  for (const auto& line :
       tracker_.set_client(pem_certificate_not_after(settings.cert_pem), now_unix)) {
    say_(line);
  }
  publish_(tracker_.series());
}

void CertificateMonitor::after_poll(const std::vector<MemberEndpoint>& members,
                                    std::chrono::steady_clock::time_point now,
                                    std::int64_t now_unix) {
  std::vector<MemberEndpoint> tls_members;
  std::vector<std::string> endpoints;
  Probe probe;
  {
    std::lock_guard l(mu_);
    if (!settings_) return;
    if (in_flight_.valid() &&
        in_flight_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return;  // the last check is still at it: never two at once
    }
    for (const auto& m : members) {
      if (!uses_tls(*settings_, m.endpoint)) continue;
      tls_members.push_back(m);
      endpoints.push_back(m.endpoint);
    }
    std::sort(endpoints.begin(), endpoints.end());
    if (endpoints.empty() && last_endpoints_.empty()) return;  // no TLS member, none before
    const bool changed = endpoints != last_endpoints_;
    if (!due_ && !changed && last_ && now - *last_ < period_) return;
    due_ = false;
    last_ = now;
    last_endpoints_ = endpoints;
    if (probe_) {
      probe = probe_;
    } else {
      probe = [settings = *settings_](const std::string& ep) {
        return probe_server_certificate(settings, ep);
      };
    }
    in_flight_ = std::async(std::launch::async, [this, tls_members, probe, now_unix] {
      check(tls_members, probe, now_unix);
    });
  }
}

void CertificateMonitor::check(const std::vector<MemberEndpoint>& members, const Probe& probe,
                               std::int64_t now) {
  // In parallel: a member that does not answer costs one timeout, not one per member.
  std::vector<std::future<ServerCertificate>> pending;
  pending.reserve(members.size());
  for (const auto& m : members) {
    pending.push_back(
        std::async(std::launch::async, [&probe, ep = m.endpoint] { return probe(ep); }));
  }
  std::vector<MemberProbe> round;
  for (std::size_t i = 0; i < members.size(); ++i) round.push_back({members[i], pending[i].get()});
  for (const auto& line : tracker_.record(round, now)) say_(line);
  publish_(tracker_.series());
}

}  // namespace edd::tls
