#include "service/daemon_app.h"

#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>
#include <utility>

#include "config/client_setup.h"
#include "config/loader.h"
#include "etcd/endpoint.h"
#include "etcd/grpc_cluster_client.h"
#include "etcd/metrics_probe.h"
#include "etcd/swappable_client.h"
#include "http/bearer_auth.h"
#include "http/daemon_routes.h"
#include "http/server.h"
#include "metrics/daemon_metrics.h"
#include "service/daemon_loop.h"
#include "service/poll_log.h"
#include "service/webhook_routes.h"

namespace edd::service {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

constexpr const char* kVersion = EDD_VERSION;

// One line per event to stderr (journald adds time and unit); JSON when asked for.
class Log {
 public:
  explicit Log(const config::LogConfig& c) : json_(c.format == config::LogFormat::kJson) {
    logger_ = spdlog::stderr_logger_mt("etcd-defragd");
    logger_->set_pattern(json_ ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":%v})"
                               : "%Y-%m-%dT%H:%M:%S.%e %l %v",
                         spdlog::pattern_time_type::utc);
    logger_->flush_on(spdlog::level::trace);
    set_level(c.level);
  }
  ~Log() { spdlog::drop("etcd-defragd"); }
  void set_level(config::LogLevel level) {
    static constexpr spdlog::level::level_enum kLevels[] = {
        spdlog::level::trace, spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
        spdlog::level::err};
    logger_->set_level(kLevels[static_cast<int>(level)]);
  }
  void info(const std::string& m) { logger_->info(text(m)); }
  void warn(const std::string& m) { logger_->warn(text(m)); }
  void error(const std::string& m) { logger_->error(text(m)); }
  void debug(const std::string& m) { logger_->debug(text(m)); }

 private:
  std::string text(const std::string& m) const {
    return json_ ? json::serialize(json::string(m)) : m;
  }
  bool json_;
  std::shared_ptr<spdlog::logger> logger_;
};

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
  return buf;
}

// This host, stably across restarts and unlike hostnames unique: derived from /etc/machine-id
// with an application key, as systemd asks (the machine ID itself is not to be exposed). ""
// when there is no machine ID.
std::string host_id() {
  // Fixed for etcd-defragd (made with `systemd-id128 new`); changing it changes every identity.
  constexpr sd_id128_t kApp =
      SD_ID128_MAKE(72, 4a, 00, 92, c8, a0, 40, 76, 92, 6e, 5d, e6, 37, ba, 2b, f1);
  sd_id128_t id;
  if (sd_id128_get_machine_app_specific(kApp, &id) < 0) return "";
  char text[SD_ID128_STRING_MAX];
  return std::string(sd_id128_to_string(id, text)).substr(0, 16);
}

// Who this daemon is, in the lock's key and the last-run record: the hostname and local member
// for people, the host ID so that a restarted daemon recognises its predecessor's key and never
// another host's (two hosts may share a hostname and a local endpoint such as 127.0.0.1:2379).
std::string daemon_identity(const config::Config& c) {
  const std::string id = host_id();
  return hostname() + " (" + c.etcd.local_endpoint + (id.empty() ? "" : ", host " + id) + ")";
}

metrics::RunTrigger metrics_trigger(Trigger t) {
  switch (t) {
    case Trigger::kWebhook:
      return metrics::RunTrigger::kAlertmanager;
    case Trigger::kManual:
      return metrics::RunTrigger::kManual;
    case Trigger::kRule:
    case Trigger::kNoSpace:
      break;
  }
  return metrics::RunTrigger::kRule;
}

// The last path segment of the lock prefix is the lock; the record sits beside it, outside the
// prefix so it never takes part in the election.
std::string last_run_key(const std::string& lock_prefix) {
  const auto slash = lock_prefix.rfind('/');
  if (slash == std::string::npos || slash == 0) return lock_prefix + "-last-run";
  return lock_prefix.substr(0, slash) + "/last-run";
}

LoopSettings loop_settings(const config::Config& c, const etcd::ClientOptions& client) {
  LoopSettings s;
  s.seeds = c.etcd.endpoints;
  s.cluster = c.etcd.cluster;
  s.local_endpoint = c.etcd.local_endpoint;
  s.identity = daemon_identity(c);
  s.rule = c.policy.rule;
  s.min_interval = c.policy.min_interval;
  s.nospace_bypasses_min_interval = c.policy.nospace_bypasses_min_interval;
  s.defrag_during_version_change = c.policy.defrag_during_version_change;
  s.last_run_key = last_run_key(c.lock.prefix);
  s.lock_ttl = c.lock.ttl;
  const config::RunSettings r = config::run_settings(c);
  s.run.compaction = r.compaction;
  s.run.continue_on_error = r.continue_on_error;
  s.run.dry_run = r.dry_run;
  s.run.move_leader =
      r.move_leader == config::MoveLeader::kAlways ? defrag::RunOptions::MoveLeader::kAlways
      : r.move_leader == config::MoveLeader::kAuto ? defrag::RunOptions::MoveLeader::kAuto
                                                   : defrag::RunOptions::MoveLeader::kNever;
  s.run.move_leader_min_stall = r.move_leader_min_stall;
  s.run.auto_disalarm = r.auto_disalarm;
  s.run.disalarm_threshold = r.disalarm_threshold;
  s.run.consistency_check = r.consistency_check;
  s.run.wait_between_defrags = r.wait_between_defrags;
  s.run.command_timeout = r.command_timeout;
  s.run.view.flag_quota_bytes = r.flag_quota_bytes;
  s.run.view.quota_probe = etcd::make_metrics_quota_probe(client);
  return s;
}

// Feeds metrics and the log from the loop.
class Observer final : public LoopObserver {
 public:
  Observer(metrics::DaemonMetrics& m, Log& log) : metrics_(m), log_(log) {}
  void on_poll(const PollView& view, std::chrono::nanoseconds took) override {
    std::vector<metrics::MemberVerdict> verdicts;
    for (std::size_t i = 0; i < view.members.size(); ++i) {
      metrics::MemberVerdict v;
      v.healthy = view.healthy[i];
      const auto action = view.verdicts[i].action;
      if (view.members[i].status && action != defrag::Action::kRuleError) {
        v.rule_match = action == defrag::Action::kDefragment;
      }
      verdicts.push_back(v);
    }
    metrics_.update_members(view.members, verdicts);
    metrics_.record_poll(took, view.error.empty());
    if (!view.error.empty()) log_.warn("poll failed: " + view.error);
    std::function<void()> notify;
    {
      std::lock_guard l(mu_);
      // A known defrag bug or a version change is said once, when it first shows.
      for (const auto& line : view.version_warnings) {
        if (warned_.insert(line).second) log_.warn(line);
      }
      last_poll_ = std::chrono::steady_clock::now();
      last_poll_ok_ = view.error.empty();
      notify = std::exchange(first_poll, nullptr);
    }
    if (notify) notify();
  }
  void on_run(Trigger trigger, const defrag::RunReport& report) override {
    metrics_.record_run(metrics_trigger(trigger), report, std::chrono::system_clock::now());
    log_.info("run finished (" + trigger_name(trigger) +
              "): " + defrag::outcome_name(report.outcome) + ", reclaimed " +
              std::to_string(report.reclaimed_bytes()) + " bytes" +
              (report.abort_reason.empty() ? "" : " (" + report.abort_reason + ")"));
  }
  void on_lock(bool held) override {
    metrics_.set_lock_held(held);
    log_.info(held ? "lock: this daemon is the actor" : "lock: this daemon is no longer the actor");
  }
  void say(const std::string& line) override { log_.info(line); }
  // Called once, after the first poll and before any run it may start (READY=1 must not wait
  // for a defrag).
  std::function<void()> first_poll;

  http::Health health(milliseconds poll_interval) const {
    std::lock_guard l(mu_);
    if (!last_poll_) return {false, "no poll yet"};
    if (std::chrono::steady_clock::now() - *last_poll_ >
        3 * poll_interval + std::chrono::minutes(1)) {
      return {false, "no poll for more than 3 poll intervals"};
    }
    if (!last_poll_ok_) return {false, "the last poll reached no member"};
    return {true, ""};
  }

 private:
  metrics::DaemonMetrics& metrics_;
  Log& log_;
  mutable std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> last_poll_;
  bool last_poll_ok_ = false;
  std::set<std::string> warned_;
};

std::string status_json(const DaemonLoop& loop, milliseconds min_interval) {
  const PollView view = loop.last_view();
  json::array members;
  for (std::size_t i = 0; i < view.members.size(); ++i) {
    const auto& m = view.members[i];
    json::object o{{"endpoint", m.endpoint},
                   {"name", m.name},
                   {"healthy", view.healthy[i]},
                   {"ruleVerdict", defrag::action_name(view.verdicts[i].action)},
                   {"ruleReason", view.verdicts[i].reason}};
    if (m.status) {
      o["memberId"] = etcd::member_id_hex(m.status->member_id);
      o["version"] = m.status->version;
      o["dbSize"] = m.status->db_size;
      o["dbSizeInUse"] = m.status->db_size_in_use;
      o["dbQuota"] = m.quota_bytes;
      o["dbQuotaUsage"] = m.quota_usage();
      o["isLeader"] = m.status->is_leader();
    } else {
      o["error"] = m.error;
    }
    members.push_back(std::move(o));
  }
  json::object out{{"members", std::move(members)},
                   {"nospace", view.nospace},
                   {"actor", loop.actor()},
                   {"runPending", loop.run_pending()},
                   {"versionChange", defrag::version_change_name(view.version_change.change)},
                   {"versionChangeReason", view.version_change.reason}};
  json::array warnings;
  for (const auto& line : view.version_warnings) warnings.emplace_back(line);
  out["warnings"] = std::move(warnings);
  if (auto last = loop.last_run()) {
    out["lastRun"] = json::object{{"time", last->unix_seconds},
                                  {"result", last->result},
                                  {"actor", last->actor},
                                  {"trigger", last->trigger}};
    out["nextEligible"] =
        last->unix_seconds + std::chrono::duration_cast<std::chrono::seconds>(min_interval).count();
  }
  return json::serialize(out);
}

void print_all(const std::vector<std::string>& lines) {
  for (const auto& l : lines) std::cerr << l << "\n";
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

int run_daemon(const std::string& config_path) {
  config::LoadResult loaded = config::load_config_file(config_path);
  print_all(loaded.errors);
  if (!loaded.config) return 2;
  config::Config cfg = *loaded.config;
  Log log(cfg.log);
  for (const auto& w : loaded.warnings) log.warn(w);

  auto setup = config::make_client_options(cfg.etcd);
  if (!setup) {
    std::cerr << config_path << ": " << setup.error().message << "\n";
    return 2;
  }
  for (const auto& w : setup->warnings) log.warn(w);
  auto first_client = etcd::GrpcClusterClient::create(setup->options);
  if (!first_client) {
    std::cerr << config_path << ": " << first_client.error().message << "\n";
    return 2;
  }
  // SIGHUP swaps in a new client: rotated certificates and passwords apply without a restart.
  etcd::SwappableClient client(std::shared_ptr<etcd::GrpcClusterClient>(std::move(*first_client)));

  SystemClock clock;
  metrics::DaemonMetrics metrics(kVersion);
  Observer observer(metrics, log);
  LoopSettings settings = loop_settings(cfg, setup->options);
  coord::LockOptions lock_options;
  lock_options.prefix = cfg.lock.prefix;
  lock_options.ttl = cfg.lock.ttl;
  lock_options.identity = settings.identity;
  // Only an identity with a host ID is this daemon's alone (see coord/lease_lock.h).
  lock_options.reclaim_previous_incarnation = !host_id().empty();
  coord::LeaseLock lock(client, lock_options);

  std::mutex cfg_mu;  // guards cfg for the hooks (SIGHUP replaces it)
  LoopHooks hooks;
  hooks.paused = [&] {
    std::lock_guard l(cfg_mu);
    return !cfg.policy.pause_file.empty() && std::filesystem::exists(cfg.policy.pause_file);
  };
  hooks.in_window = [&](std::chrono::system_clock::time_point now) {
    std::lock_guard l(cfg_mu);
    return config::in_window(cfg.policy.maintenance_windows, now);
  };
  hooks.wall_now = [] { return std::chrono::system_clock::now(); };
  DaemonLoop loop(client, client, lock, clock, hooks, settings, observer);

  asio::io_context io;
  http::ServerOptions http_options;
  http_options.host = cfg.http.listen.host;
  http_options.port = cfg.http.listen.port;
  if (!cfg.http.cert.empty()) {
    http_options.tls = http::TlsFiles{cfg.http.cert, cfg.http.key, cfg.http.client_ca};
  }
  http_options.body_limit_bytes = cfg.http.body_limit_bytes;
  http_options.max_connections = cfg.http.max_connections;
  http_options.max_connections_per_address = cfg.http.max_connections_per_address;
  http_options.request_head_timeout = cfg.http.request_head_timeout;
  http_options.idle_timeout = cfg.http.idle_timeout;
  http_options.tls_handshake_timeout = cfg.http.tls_handshake_timeout;
  http::Server server(io, http_options, [&log](http::LogLevel level, const std::string& m) {
    switch (level) {
      case http::LogLevel::kDebug:
        log.debug(m);
        break;
      case http::LogLevel::kInfo:
        log.info(m);
        break;
      case http::LogLevel::kWarning:
        log.warn(m);
        break;
      case http::LogLevel::kError:
        log.error(m);
        break;
    }
  });
  // Every answer on the webhook path is counted by code, the server's own 400/413/431 included.
  server.on_response([&metrics](std::string_view, std::string_view path, unsigned status) {
    if (path.empty() || path == "/v1/alertmanager") metrics.count_webhook(static_cast<int>(status));
  });
  server.on_connection_event([&metrics](http::ConnectionEvent event, std::string_view) {
    metrics.count_http_connection_rejected(std::string(http::connection_event_name(event)));
  });
  // Wakes the worker early: a run was requested, or we stop.
  std::mutex wake_mu;
  std::condition_variable wake;
  bool stop = false;
  auto token_of = [&log](const config::HttpConfig& h) {
    if (h.webhook_token_file.empty()) return std::string();
    auto t = http::read_token_file(h.webhook_token_file);
    if (!t) {
      log.error("webhook disabled: " + t.error().message);
      return std::string();
    }
    return *t;
  };
  WebhookSettings webhook{token_of(cfg.http), cfg.http.webhook_matchers,
                          cfg.http.webhook_bypasses_rule};
  if (webhook.token.empty())
    log.info("webhook and /v1/defrag disabled: no http.webhook_token_file");
  auto count_401 = [&metrics](http::BearerCheck why) {
    metrics.count_unauthorized(std::string(http::bearer_check_name(why)));
  };
  add_webhook_routes(server.router(), {[&] {
                                         std::lock_guard l(cfg_mu);
                                         return webhook;
                                       },
                                       &loop,
                                       [&] {
                                         { std::lock_guard l(wake_mu); }
                                         wake.notify_all();
                                       },
                                       [&log](const std::string& line) { log.info(line); },
                                       [&] {
                                         std::lock_guard l(cfg_mu);
                                         return cfg.policy.rule;
                                       },
                                       count_401});
  http::add_daemon_routes(server.router(), {[&] { return metrics.serialize(); },
                                            [&] {
                                              std::lock_guard l(cfg_mu);
                                              return observer.health(cfg.policy.poll_interval);
                                            },
                                            [&] {
                                              std::lock_guard l(cfg_mu);
                                              return status_json(loop, cfg.policy.min_interval);
                                            }});
  if (auto s = server.start(); !s) {
    log.error("http: " + s.error().message);
    return 1;
  }
  log.info("etcd-defragd " + std::string(kVersion) + " watching " + cfg.etcd.endpoints.front() +
           (cfg.etcd.cluster ? " and its peers" : "") + "; listening on " + cfg.http.listen.host +
           ":" + std::to_string(server.port()));

  observer.first_poll = [&] {
    asio::post(io, [&] {
      sd_notify(0, "READY=1");
      log.info("ready: first poll done, listening on " + cfg.http.listen.host + ":" +
               std::to_string(server.port()));
    });
  };
  // The worker: one step per poll interval, or sooner when a run is requested or we stop.
  std::thread worker([&] {
    PollLog poll_log;
    while (true) {
      const StepResult r = loop.step();
      switch (poll_log.level(r)) {
        case PollLog::Level::kInfo:
          log.info(PollLog::line_of(r));
          break;
        case PollLog::Level::kDebug:
          log.debug(PollLog::line_of(r));
          break;
        case PollLog::Level::kNone:
          break;
      }
      asio::post(io, [&, d = decision_name(r.decision)] {
        sd_notifyf(0, "STATUS=last poll: %s; actor: %s", d.c_str(), loop.actor().c_str());
      });
      milliseconds interval;
      {
        std::lock_guard l(cfg_mu);
        interval = cfg.policy.poll_interval;
      }
      std::unique_lock l(wake_mu);
      wake.wait_for(l, interval, [&] { return stop || loop.run_pending(); });
      if (stop) return;
    }
  });
  // Keep-alives on their own thread, never blocked by a Defragment on the worker.
  std::thread keeper([&] {
    const auto period = std::chrono::duration_cast<milliseconds>(cfg.lock.ttl) / 3;
    while (true) {
      {
        std::unique_lock l(wake_mu);
        if (wake.wait_for(l, period, [&] { return stop; })) return;
      }
      if (auto s = loop.keep_alive(); !s) log.warn("lock: keep-alive failed: " + s.error().message);
    }
  });

  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::
                                                                                 error_code& ec,
                                                                             int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      config::LoadResult fresh = config::load_config_file(config_path);
      if (!fresh.config) {
        log.error("reload rejected, keeping the running config: " +
                  (fresh.errors.empty() ? std::string("unknown error") : fresh.errors.front()));
      } else {
        for (const auto& w : fresh.warnings) log.warn(w);
        {
          std::lock_guard l(cfg_mu);
          cfg = *fresh.config;
          log.set_level(cfg.log.level);
          // The token file may have been rotated: read it again. Enabling or disabling the
          // routes themselves needs a restart.
          webhook = {token_of(cfg.http), cfg.http.webhook_matchers, cfg.http.webhook_bypasses_rule};
        }
        auto fresh_setup = config::make_client_options(fresh.config->etcd);
        auto fresh_client =
            fresh_setup ? etcd::GrpcClusterClient::create(fresh_setup->options)
                        : Result<std::unique_ptr<etcd::GrpcClusterClient>>(fresh_setup.error());
        if (fresh_client) {
          client.replace(std::shared_ptr<etcd::GrpcClusterClient>(std::move(*fresh_client)));
          log.info("etcd client rebuilt: certificates and credentials re-read");
        } else {
          log.error("keeping the running etcd client: " + fresh_client.error().message);
        }
        loop.replace_settings(
            loop_settings(*fresh.config, fresh_setup ? fresh_setup->options : setup->options));
        log.info("config reloaded from " + config_path +
                 " ([lock] and [http] listen/TLS changes need a restart)");
      }
      signals.async_wait(on_signal);
      return;
    }
    log.info("stopping (" + std::string(strsignal(sig)) + ")");
    sd_notify(0, "STOPPING=1");
    loop.request_stop();
    server.stop();
    {
      std::lock_guard l(wake_mu);
      stop = true;
    }
    wake.notify_all();
    signals.cancel();
    io.stop();
  };
  signals.async_wait(on_signal);

  // The watchdog is fed from the event loop: if the loop hangs, systemd restarts us.
  std::uint64_t watchdog_usec = 0;
  asio::steady_timer watchdog(io);
  std::function<void(const boost::system::error_code&)> feed =
      [&](const boost::system::error_code& ec) {
        if (ec) return;
        sd_notify(0, "WATCHDOG=1");
        watchdog.expires_after(std::chrono::microseconds(watchdog_usec / 2));
        watchdog.async_wait(feed);
      };
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) feed({});

  io.run();
  worker.join();
  keeper.join();
  const bool held = loop.release_lock();
  metrics.set_lock_held(false);
  log.info(held ? "stopped; lock released" : "stopped (did not hold the lock)");
  return 0;
}

}  // namespace edd::service
