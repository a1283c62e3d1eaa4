// What the daemon touches outside its own memory, injected so that a test can build and step the
// whole daemon on fakes: time, systemd's notifications, and the etcd connection a config makes.
// The app (daemon_app.cpp) passes the real ones.
#pragma once

#include <functional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "etcd/client_options.h"
#include "etcd/cluster_view.h"
#include "etcd/key_scanner.h"
#include "etcd/swappable_client.h"

namespace edd::service {

// systemd's sd_notify(3): READY=1, STATUS=…, STOPPING=1, WATCHDOG=1.
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void notify(const std::string& state) = 0;
};

// A connection to etcd made from client options: the clients and the quota probe (which reads
// each member's /metrics with the same TLS files).
struct EtcdConnection {
  etcd::EtcdClients clients;
  etcd::QuotaProbe quota_probe;
  std::shared_ptr<etcd::KeyScanner> scanner{};  // for the usage scan; empty: none
};
using ConnectEtcd = std::function<Result<EtcdConnection>(const etcd::ClientOptions& options)>;

struct World {
  Clock& clock;
  Notifier& notifier;
  ConnectEtcd connect;
  std::string host_id;  // "" when the machine has none: then no lock key is ever reclaimed
};

}  // namespace edd::service
