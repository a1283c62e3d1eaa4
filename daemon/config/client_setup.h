// Turns the validated [etcd] section into the etcd client's options, reading the password from
// etcd.password_file at that moment (the Config never holds it). Thread-safe; touches the
// filesystem only to read that file.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "etcd/client_options.h"

namespace edd::config {

struct ClientSetup {
  etcd::ClientOptions options;
  // e.g. `etcd.password_file: "/etc/etcd-defragd/password" is readable by group or others
  // (mode 0644); chmod 600 it`. Never the password itself.
  std::vector<std::string> warnings;
};

// kInvalidArgument naming the key and the path when the password file is missing, unreadable,
// too large or empty. One trailing newline ("\n" or "\r\n") is stripped from the password.
Result<ClientSetup> make_client_options(const EtcdConfig& etcd);

}  // namespace edd::config
