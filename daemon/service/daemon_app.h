// `etcd-defragd run`: builds every real part from the config (etcd client, lock, loop, metrics,
// HTTP) and runs them until SIGTERM: the event loop on the calling thread (HTTP, signals,
// systemd watchdog), polls and runs on a worker, lease keep-alives on their own thread.
#pragma once

#include <string>

namespace edd::service {

// Exit code: 0 after SIGTERM, 1 on a runtime failure at start, 2 for a bad config.
int run_daemon(const std::string& config_path);

// `etcd-defragd check-config`: 0 valid (warnings printed), 2 with every error as
// file:line:col: key: why.
int check_config(const std::string& config_path);

}  // namespace edd::service
