// The composition root: the real World (system clock, systemd, gRPC), the Daemon built on it,
// and the threads and event loop that drive it.
#include "service/daemon_app.h"

#include <systemd/sd-daemon.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <thread>
#include <utility>

#include "config/client_setup.h"
#include "config/loader.h"
#include "etcd/grpc_cluster_client.h"
#include "etcd/metrics_probe.h"
#include "http/daemon_routes.h"
#include "http/server.h"
#include "service/daemon.h"
#include "service/identity.h"
#include "service/webhook_routes.h"

namespace edd::service {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

constexpr const char* kVersion = EDD_VERSION;

class SdNotifier final : public Notifier {
 public:
  void notify(const std::string& state) override { sd_notify(0, state.c_str()); }
};

Result<EtcdConnection> connect_grpc(const etcd::ClientOptions& options) {
  auto client = etcd::GrpcClusterClient::create(options);
  if (!client) return client.error();
  std::shared_ptr<etcd::GrpcClusterClient> shared(std::move(*client));
  return EtcdConnection{{shared, shared}, etcd::make_metrics_quota_probe(options), shared};
}

void print_all(const std::vector<std::string>& lines) {
  for (const auto& l : lines) std::cerr << l << "\n";
}

http::ServerOptions server_options(const config::HttpConfig& h) {
  http::ServerOptions o;
  o.host = h.listen.host;
  o.port = h.listen.port;
  if (!h.cert.empty()) o.tls = http::TlsFiles{h.cert, h.key, h.client_ca};
  o.body_limit_bytes = h.body_limit_bytes;
  o.max_connections = h.max_connections;
  o.max_connections_per_address = h.max_connections_per_address;
  o.request_head_timeout = h.request_head_timeout;
  o.idle_timeout = h.idle_timeout;
  o.tls_handshake_timeout = h.tls_handshake_timeout;
  return o;
}

http::LogSink server_log(Log& log) {
  return [&log](http::LogLevel level, const std::string& m) {
    switch (level) {
      case http::LogLevel::kDebug:
        return log.debug(m);
      case http::LogLevel::kInfo:
        return log.info(m);
      case http::LogLevel::kWarning:
        return log.warn(m);
      case http::LogLevel::kError:
        return log.error(m);
    }
  };
}

// Wakes the worker early (a run was requested, or we stop) and tells the threads to end.
struct Wake {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;  // guarded by mu

  void notify() {
    { std::lock_guard l(mu); }
    cv.notify_all();
  }
  void stop_all() {
    {
      std::lock_guard l(mu);
      stop = true;
    }
    cv.notify_all();
  }
  // Waits up to `d`, or until `early` holds or we stop; returns whether we stop.
  template <class Early>
  bool wait(milliseconds d, Early early) {
    std::unique_lock l(mu);
    cv.wait_for(l, d, [&] { return stop || early(); });
    return stop;
  }
};

void add_routes(http::Server& server, Daemon& daemon, Wake& wake, Log& log) {
  // Every answer on the webhook path is counted by code, the server's own 400/413/431 included.
  server.on_response([&daemon](std::string_view, std::string_view path, unsigned status) {
    if (path.empty() || path == "/v1/alertmanager") daemon.count_webhook(status);
  });
  // What the listener refused, evicted or cut at a deadline, and the 401s, by reason.
  server.on_connection_event([&daemon](http::ConnectionEvent event, std::string_view) {
    daemon.count_http_connection_rejected(http::connection_event_name(event));
  });
  add_webhook_routes(
      server.router(),
      {[&daemon] { return daemon.webhook(); }, &daemon.loop(), [&wake] { wake.notify(); },
       [&log](const std::string& line) { log.info(line); }, [&daemon] { return daemon.rule(); },
       [&daemon](http::BearerCheck why) {
         daemon.count_unauthorized(http::bearer_check_name(why));
       }});
  http::add_daemon_routes(server.router(), {[&daemon] { return daemon.metrics_text(); },
                                            [&daemon] { return daemon.health(); },
                                            [&daemon] { return daemon.status_json(); }});
}

// The worker: one step per poll interval, or sooner when a run is requested or we stop.
std::thread start_worker(Daemon& daemon, Wake& wake) {
  return std::thread([&daemon, &wake] {
    do {
      daemon.step();
    } while (!wake.wait(daemon.poll_interval(), [&] { return daemon.loop().run_pending(); }));
  });
}

// Keep-alives on their own thread, never blocked by a Defragment on the worker.
std::thread start_keeper(Daemon& daemon, Wake& wake) {
  return std::thread([&daemon, &wake] {
    const auto period = std::chrono::duration_cast<milliseconds>(daemon.lock_ttl()) / 3;
    while (!wake.wait(period, [] { return false; })) daemon.keep_alive();
  });
}

// A timer on the event loop that calls `tick` every `period` until the loop stops.
void every(asio::steady_timer& timer, milliseconds period, std::function<void()> tick) {
  tick();
  timer.expires_after(period);
  timer.async_wait([&timer, period, tick = std::move(tick)](const boost::system::error_code& ec) {
    if (!ec) every(timer, period, tick);
  });
}

}  // namespace

int check_config(const std::string& config_path) {
  const config::LoadResult r = config::load_config_file(config_path);
  print_all(r.errors);
  if (!r.config) return 2;
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
  auto client = config::make_client_options(r.config->etcd);
  if (!client) {
    std::cerr << config_path << ": " << client.error().message << "\n";
    return 2;
  }
  std::cout << config_path << ": OK\n";
  return 0;
}

namespace {

// SIGHUP: reload; a config that does not load is rejected and the running one kept.
void reload(Daemon& daemon, Log& log, const std::string& config_path) {
  config::LoadResult fresh = config::load_config_file(config_path);
  if (!fresh.config) {
    log.error("reload rejected, keeping the running config: " +
              (fresh.errors.empty() ? std::string("unknown error") : fresh.errors.front()));
    return;
  }
  for (const auto& w : fresh.warnings) log.warn(w);
  daemon.reload(*fresh.config);
  log.info("config reloaded from " + config_path +
           " ([lock] and [http] listen/TLS changes need a restart)");
}

void on_signals(asio::signal_set& signals, Daemon& daemon, Log& log, const std::string& path,
                const std::function<void()>& shut_down) {
  signals.async_wait(
      [&signals, &daemon, &log, path, shut_down](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig != SIGHUP) {
          log.info("stopping (" + std::string(strsignal(sig)) + ")");
          shut_down();
          return;
        }
        reload(daemon, log, path);
        on_signals(signals, daemon, log, path, shut_down);
      });
}

}  // namespace

int run_daemon(const std::string& config_path) {
  config::LoadResult loaded = config::load_config_file(config_path);
  print_all(loaded.errors);
  if (!loaded.config) return 2;
  const config::Config& cfg = *loaded.config;
  Log log(cfg.log);
  for (const auto& w : loaded.warnings) log.warn(w);

  SystemClock clock;
  SdNotifier notifier;
  auto daemon = Daemon::create(cfg, World{clock, notifier, connect_grpc, host_id()}, log);
  if (!daemon) {
    std::cerr << config_path << ": " << daemon.error().message << "\n";
    return 2;
  }
  Daemon& d = **daemon;
  asio::io_context io;
  http::Server server(io, server_options(cfg.http), server_log(log));
  Wake wake;
  add_routes(server, d, wake, log);
  if (auto s = server.start(); !s) {
    log.error("http: " + s.error().message);
    return 1;
  }
  const std::string listening = cfg.http.listen.host + ":" + std::to_string(server.port());
  log.info("etcd-defragd " + std::string(kVersion) + " watching " + cfg.etcd.endpoints.front() +
           (cfg.etcd.cluster ? " and its peers" : "") + "; listening on " + listening);
  d.set_listening(listening);

  std::thread worker = start_worker(d, wake);
  std::thread keeper = start_keeper(d, wake);
  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  on_signals(signals, d, log, config_path, [&] {
    d.request_stop();
    server.stop();
    wake.stop_all();
    signals.cancel();
    io.stop();
  });
  // The watchdog is fed from the event loop: if the loop hangs, systemd restarts us.
  asio::steady_timer watchdog(io);
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    every(watchdog,
          std::chrono::duration_cast<milliseconds>(std::chrono::microseconds(watchdog_usec / 2)),
          [&notifier] { notifier.notify("WATCHDOG=1"); });
  }
  // The lease's end is watched from the event loop too: the keeper may be blocked in a
  // keep-alive to an unreachable cluster past it, and another daemon may act right after.
  asio::steady_timer lease_watch(io);
  every(lease_watch, milliseconds(250), [&d] { d.expire_lock_if_due(); });

  io.run();
  worker.join();
  keeper.join();
  d.release();
  return 0;
}

}  // namespace edd::service
