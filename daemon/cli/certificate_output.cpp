#include "cli/certificate_output.h"

#include <boost/json.hpp>
#include <chrono>
#include <future>

#include "tls/certificate_time.h"

namespace edd::cli {
namespace {

namespace json = boost::json;

std::string expiry_text(std::optional<std::int64_t> not_after, const std::string& error,
                        std::int64_t now) {
  std::string out = not_after ? "expires " + tls::format_utc(*not_after) + " (" +
                                    tls::format_days_left(*not_after, now) + ")"
                              : "expiry unknown";
  if (!error.empty()) out += " (handshake failed: " + error + ")";
  return out;
}

json::value expiry_json(std::optional<std::int64_t> not_after, const std::string& error,
                        std::int64_t now) {
  json::object o;
  if (not_after) {
    o["notAfter"] = tls::format_utc(*not_after);
    o["notAfterUnix"] = *not_after;
    o["daysLeft"] = tls::days_left(*not_after, now);
  } else {
    o["notAfter"] = nullptr;
    o["notAfterUnix"] = nullptr;
    o["daysLeft"] = nullptr;
  }
  o["error"] = error.empty() ? json::value(nullptr) : json::value(error);
  return o;
}

}  // namespace

CertificateReport check_certificates(const etcd::ClientOptions& options,
                                     const std::vector<etcd::MemberSnapshot>& view) {
  CertificateReport r;
  r.now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  auto settings = tls::probe_settings(options);
  if (!settings) return r;  // the client itself could not read them and said so
  r.client_file = options.cert_file;
  r.client_not_after = tls::pem_certificate_not_after(settings->cert_pem);
  std::map<std::string, std::future<tls::ServerCertificate>> pending;
  for (const auto& m : view) {
    if (!tls::uses_tls(*settings, m.endpoint) || pending.contains(m.endpoint)) continue;
    pending.emplace(m.endpoint, std::async(std::launch::async, [&s = *settings, ep = m.endpoint] {
                      return tls::probe_server_certificate(s, ep);
                    }));
  }
  r.tls = !pending.empty();
  for (auto& [endpoint, f] : pending) r.servers[endpoint] = f.get();
  return r;
}

std::string render_certificate_lines(const CertificateReport& report,
                                     const std::vector<etcd::MemberSnapshot>& view) {
  if (!report.tls) return "";
  std::string out;
  if (report.client_not_after) {
    out += "CERTIFICATE client " + report.client_file + ": " +
           expiry_text(report.client_not_after, "", report.now_unix) + "\n";
  }
  for (const auto& m : view) {
    auto it = report.servers.find(m.endpoint);
    if (it == report.servers.end()) continue;
    out += "CERTIFICATE server " + (m.name.empty() ? "" : m.name + " ") + m.endpoint + ": " +
           expiry_text(it->second.not_after_unix, it->second.error, report.now_unix) + "\n";
  }
  return out;
}

std::string add_certificates_to_json(const std::string& status_json,
                                     const CertificateReport& report) {
  json::value doc = json::parse(status_json);
  for (auto& v : doc.as_array()) {
    json::object& o = v.as_object();
    const std::string endpoint(o["endpoint"].as_string());
    auto it = report.servers.find(endpoint);
    o["clientCertificate"] = report.tls && report.client_not_after
                                 ? expiry_json(report.client_not_after, "", report.now_unix)
                                 : json::value(nullptr);
    o["serverCertificate"] =
        it != report.servers.end()
            ? expiry_json(it->second.not_after_unix, it->second.error, report.now_unix)
            : json::value(nullptr);
  }
  return json::serialize(doc) + "\n";
}

}  // namespace edd::cli
