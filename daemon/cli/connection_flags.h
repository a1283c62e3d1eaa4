// The etcd connection flags shared by `status` and `defrag`, with etcdctl's names and meaning,
// and their environment fallbacks (flag beats environment beats default).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "etcd/client_options.h"

namespace edd::cli {

// Maps a flag name ("endpoints") to the environment variable that may set it, or "" for none.
using EnvNamer = std::function<std::string(std::string_view flag)>;

// ETCDCTL_ENDPOINTS, ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY, ETCDCTL_USER, ETCDCTL_PASSWORD.
std::string etcdctl_env(std::string_view flag);
// ETCD_DEFRAG_<FLAG> with dashes as underscores, for every flag (etcd-defrag's convention).
std::string etcd_defrag_env(std::string_view flag);

struct ConnectionFlags {
  std::string endpoints = "127.0.0.1:2379";
  bool cluster = false;
  std::string cacert;
  std::string cert;
  std::string key;
  std::string user;  // "name" or "name:password"
  std::string password;
  std::string dial_timeout = "2s";
  std::string command_timeout = "30s";
  std::string keepalive_time = "2s";
  std::string keepalive_timeout = "6s";
  bool insecure_transport = true;
  bool insecure_skip_tls_verify = false;
  std::int64_t storage_quota_bytes = 2LL * 1024 * 1024 * 1024;

  void add_to(CLI::App& app, const EnvNamer& env);
  // Validates durations, the endpoint list and the quota; errors name the flag.
  Result<etcd::ClientOptions> to_client_options() const;
};

}  // namespace edd::cli
