// The daemon's life, in one object: built from a config on a World (time, systemd, etcd), then
// stepped by its threads — or by a test —, reloaded on SIGHUP, stopped on SIGTERM. It owns the
// etcd client, the lock, the loop, the metrics and what the HTTP routes answer; the app
// (daemon_app.cpp) owns the threads, the event loop and the listener. Thread-safe as its parts
// are: step() on one worker, keep_alive() on one keeper, the rest from anywhere.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "coord/lease_lock.h"
#include "http/daemon_routes.h"
#include "metrics/daemon_metrics.h"
#include "service/daemon_loop.h"
#include "service/log.h"
#include "service/observer.h"
#include "service/poll_log.h"
#include "service/usage_scan.h"
#include "service/webhook_routes.h"
#include "service/world.h"
#include "tls/certificate_monitor.h"

namespace edd::service {

// What a config makes: the etcd connection and the loop's settings. Start-up and SIGHUP both
// build it here, so a reload can change nothing that a start would not.
struct Wiring {
  EtcdConnection etcd;
  LoopSettings settings;
  std::vector<std::string> warnings;  // e.g. a password file others can read
  // The TLS files as the client just read them, for the certificate-expiry watch; empty when
  // one cannot be read (then a warning says so and expiry goes unwatched).
  std::optional<tls::ProbeSettings> certificates;
};
Result<Wiring> wire(const config::Config& cfg, const World& world);

class Daemon {
 public:
  // An error names what is wrong with the config (the daemon then exits 2).
  static Result<std::unique_ptr<Daemon>> create(const config::Config& cfg, World world, Log& log);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // One poll, and a run when one is due; logged. READY=1 after the first poll, before its run.
  StepResult step();
  void keep_alive();          // the lease, from its own thread
  void expire_lock_if_due();  // from a short timer: keep-alives may hang past the lease's end
  // SIGHUP with a config that loaded: applies it; what fails to build keeps the running part.
  void reload(const config::Config& fresh);
  void request_stop();  // SIGTERM: a run stops before its next destructive step
  void release();       // at exit: revokes our lease so another daemon takes over at once

  // What the HTTP routes and the threads read.
  http::Health health() const;
  std::string status_json() const;
  std::string metrics_text() const;
  void count_webhook(unsigned status);
  void count_unauthorized(std::string_view reason);              // missing_token, wrong_token
  void count_http_connection_rejected(std::string_view reason);  // http::connection_event_name
  WebhookSettings webhook() const;
  rule::Rule rule() const;
  DaemonLoop& loop() { return loop_; }
  std::chrono::milliseconds poll_interval() const;
  std::chrono::seconds lock_ttl() const;
  void set_listening(std::string where);  // for the ready line

 private:
  Daemon(const config::Config& cfg, World world, Log& log, const Wiring& wiring);
  LoopHooks hooks();
  std::function<std::optional<defrag::DiskRoom>()> disk_room_hook();
  WebhookSettings webhook_settings(const config::HttpConfig& http);
  void log_step(const StepResult& r);
  // After a step that ran nothing: a slice of the usage scan, when due (service/usage_scan.h).
  void scan_usage_if_due(const StepResult& r);

  World world_;
  Log& log_;
  mutable std::mutex cfg_mu_;
  config::Config cfg_;            // guarded by cfg_mu_ (SIGHUP replaces it)
  WebhookSettings webhook_;       // guarded by cfg_mu_
  std::string listening_;         // guarded by cfg_mu_
  etcd::QuotaProbe quota_probe_;  // guarded by cfg_mu_: the running connection's
  metrics::DaemonMetrics metrics_;
  Observer observer_;
  etcd::SwappableClient client_;  // SIGHUP swaps in a new one: rotated certificates apply
  coord::LeaseLock lock_;
  DaemonLoop loop_;
  PollLog poll_log_;                           // the worker's only
  std::shared_ptr<etcd::KeyScanner> scanner_;  // guarded by cfg_mu_ (SIGHUP replaces it)
  UsageScanJob usage_scan_;                    // the worker's only
  bool usage_exported_ = false;                // the worker's only: prefix series are ours
  // Last: destroyed first, it waits for a check in flight that still writes to metrics_ and log_.
  tls::CertificateMonitor certificates_;
};

}  // namespace edd::service
