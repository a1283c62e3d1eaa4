#include "cli/connection_flags.h"

#include <algorithm>
#include <cctype>

#include "common/duration.h"
#include "etcd/endpoint.h"

namespace edd::cli {

std::string etcdctl_env(std::string_view flag) {
  static constexpr std::string_view kHonoured[] = {"endpoints", "cacert", "cert",
                                                   "key",       "user",   "password"};
  for (auto f : kHonoured) {
    if (f == flag) {
      std::string name = "ETCDCTL_" + std::string(flag);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      return name;
    }
  }
  return "";
}

std::string etcd_defrag_env(std::string_view flag) {
  std::string name = "ETCD_DEFRAG_" + std::string(flag);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return c == '-' ? '_' : static_cast<char>(std::toupper(c));
  });
  return name;
}

void ConnectionFlags::add_to(CLI::App& app, const EnvNamer& env) {
  auto add = [&](std::string_view flag, std::string& target, const std::string& help) {
    auto* opt = app.add_option("--" + std::string(flag), target, help)->capture_default_str();
    if (const std::string name = env(flag); !name.empty()) opt->envname(name);
  };
  auto add_bool = [&](std::string_view flag, bool& target, const std::string& help) {
    auto* opt = app.add_flag("--" + std::string(flag), target, help)->capture_default_str();
    if (const std::string name = env(flag); !name.empty()) opt->envname(name);
  };
  add("endpoints", endpoints, "comma-separated etcd endpoints");
  add_bool("cluster", cluster, "use all endpoints from the cluster member list");
  add("cacert", cacert, "verify certificates of TLS-enabled secure servers using this CA bundle");
  add("cert", cert, "identify secure client using this TLS certificate file");
  add("key", key, "identify secure client using this TLS key file");
  add("user", user, "username[:password] for authentication");
  add("password", password, "password for authentication (if used, --user has no password part)");
  add("dial-timeout", dial_timeout, "dial timeout for client connections (Go duration)");
  add("command-timeout", command_timeout, "timeout for short running commands (Go duration)");
  add("keepalive-time", keepalive_time, "keepalive time for client connections");
  add("keepalive-timeout", keepalive_timeout, "keepalive timeout for client connections");
  add_bool("insecure-transport", insecure_transport,
           "disable transport security for client "
           "connections");
  add_bool("insecure-skip-tls-verify", insecure_skip_tls_verify,
           "skip server certificate verification (CAUTION: insecure)");
  auto* quota = app.add_option("--etcd-storage-quota-bytes", storage_quota_bytes,
                               "etcd storage quota in bytes, used when the member reports none")
                    ->capture_default_str();
  if (const std::string name = env("etcd-storage-quota-bytes"); !name.empty()) {
    quota->envname(name);
  }
}

Result<etcd::ClientOptions> ConnectionFlags::to_client_options() const {
  etcd::ClientOptions o;
  auto eps = etcd::parse_endpoint_list(endpoints);
  if (!eps) return make_error(ErrorCode::kInvalidArgument, "--endpoints: " + eps.error().message);
  o.endpoints.clear();
  for (const auto& e : *eps) o.endpoints.push_back(e.original);

  struct DurationFlag {
    const char* flag;
    const std::string& text;
    std::chrono::milliseconds& out;
  };
  const DurationFlag durations[] = {
      {"--dial-timeout", dial_timeout, o.dial_timeout},
      {"--command-timeout", command_timeout, o.command_timeout},
      {"--keepalive-time", keepalive_time, o.keepalive_time},
      {"--keepalive-timeout", keepalive_timeout, o.keepalive_timeout}};
  for (const auto& d : durations) {
    auto parsed = parse_go_duration(d.text);
    if (!parsed)
      return make_error(ErrorCode::kInvalidArgument,
                        std::string(d.flag) + ": " + parsed.error().message);
    if (parsed->count() <= 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        std::string(d.flag) + ": must be greater than 0, got \"" + d.text + "\"");
    }
    d.out = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
  }
  if (storage_quota_bytes <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--etcd-storage-quota-bytes: must be greater than 0, got " +
                          std::to_string(storage_quota_bytes));
  }
  if (!cert.empty() && key.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--cert needs --key");
  }
  if (cert.empty() && !key.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--key needs --cert");
  }
  o.ca_file = cacert;
  o.cert_file = cert;
  o.key_file = key;
  o.insecure_transport = insecure_transport;
  o.insecure_skip_tls_verify = insecure_skip_tls_verify;
  o.user = user;
  o.password = password;
  if (const auto colon = user.find(':'); colon != std::string::npos) {
    if (!password.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--user: has a password part and --password is also set; use one");
    }
    o.user = user.substr(0, colon);
    o.password = user.substr(colon + 1);
  }
  if (!user.empty() && o.user.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--user: empty user name");
  }
  return o;
}

}  // namespace edd::cli
