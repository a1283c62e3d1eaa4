// How to reach etcd: the connection settings shared by every subcommand (etcdctl's meaning).
// A plain value; secrets (password) live here only in memory and are never printed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace edd::etcd {

struct ClientOptions {
  std::vector<std::string> endpoints{"127.0.0.1:2379"};
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // etcdctl's --insecure-transport: plaintext for endpoints without a scheme unless TLS files
  // are given. https:// endpoints always use TLS.
  bool insecure_transport = true;
  bool insecure_skip_tls_verify = false;
  std::string user;
  std::string password;
  std::chrono::milliseconds dial_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};
  std::chrono::milliseconds keepalive_time{2000};
  std::chrono::milliseconds keepalive_timeout{6000};

  bool has_tls_files() const { return !ca_file.empty() || !cert_file.empty() || !key_file.empty(); }
};

}  // namespace edd::etcd
