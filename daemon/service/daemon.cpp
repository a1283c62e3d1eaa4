#include "service/daemon.h"

#include <filesystem>

#include "config/client_setup.h"
#include "config/maintenance_window.h"
#include "http/bearer_auth.h"
#include "service/data_dir_room.h"
#include "service/identity.h"
#include "service/last_run_json.h"
#include "service/status_json.h"

namespace edd::service {

namespace {

constexpr const char* kVersion = EDD_VERSION;

LoopSettings loop_settings(const config::Config& c, const World& world,
                           const etcd::QuotaProbe& quota_probe) {
  LoopSettings s;
  s.seeds = c.etcd.endpoints;
  s.cluster = c.etcd.cluster;
  s.local_endpoint = c.etcd.local_endpoint;
  s.identity = daemon_identity(c, world.host_id);
  s.rule = c.policy.rule;
  s.min_interval = c.policy.min_interval;
  s.nospace_bypasses_min_interval = c.policy.nospace_bypasses_min_interval;
  s.defrag_during_version_change = c.policy.defrag_during_version_change;
  s.last_run_key = last_run_key(c.lock.prefix);
  s.disk_room_prefix = defrag::disk_room_prefix(c.lock.prefix);
  s.lock_ttl = c.lock.ttl;
  static_cast<policy::RunPolicy&>(s.run) = c.policy;  // the run's share of [policy]
  s.run.command_timeout = c.etcd.command_timeout;
  s.run.view.flag_quota_bytes = c.policy.fallback_quota_bytes();
  s.run.view.quota_probe = quota_probe;
  return s;
}

coord::LockOptions lock_options(const config::Config& c, const LoopSettings& s,
                                const World& world) {
  coord::LockOptions o;
  o.prefix = c.lock.prefix;
  o.ttl = c.lock.ttl;
  o.identity = s.identity;
  // Only an identity with a host ID is this daemon's alone (see coord/lease_lock.h).
  o.reclaim_previous_incarnation = !world.host_id.empty();
  return o;
}

std::int64_t unix_now(Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.wall_now().time_since_epoch())
      .count();
}

tls::CertificateMonitor::Publish certificate_sink(metrics::DaemonMetrics& metrics) {
  return [&metrics](const std::vector<tls::CertificateExpiry>& series) {
    std::vector<metrics::CertificateExpiry> out;
    out.reserve(series.size());
    for (const auto& c : series) {
      out.push_back({c.certificate, c.member, c.endpoint, c.not_after_unix});
    }
    metrics.set_certificate_expiry(out);
  };
}

tls::CertificateMonitor::Say certificate_log(Log& log) {
  return [&log](const tls::LogLine& line) {
    if (line.warning) {
      log.warn(line.text);
    } else {
      log.info(line.text);
    }
  };
}

// The members the last poll saw, by the endpoint it reached them on.
std::vector<tls::MemberEndpoint> certificate_members(const PollView& view) {
  std::vector<tls::MemberEndpoint> out;
  out.reserve(view.members.size());
  for (const auto& m : view.members) out.push_back({m.endpoint, m.name});
  return out;
}

}  // namespace

Result<Wiring> wire(const config::Config& cfg, const World& world) {
  auto setup = config::make_client_options(cfg.etcd);
  if (!setup) return setup.error();
  auto connection = world.connect(setup->options);
  if (!connection) return connection.error();
  Wiring w;
  w.etcd = std::move(*connection);
  w.settings = loop_settings(cfg, world, w.etcd.quota_probe);
  w.warnings = std::move(setup->warnings);
  if (auto certs = tls::probe_settings(setup->options); certs) {
    w.certificates = std::move(*certs);
  } else {
    w.warnings.push_back("certificate expiry not watched: etcd." + certs.error().message);
  }
  return w;
}

Result<std::unique_ptr<Daemon>> Daemon::create(const config::Config& cfg, World world, Log& log) {
  auto wiring = wire(cfg, world);
  if (!wiring) return wiring.error();
  for (const auto& w : wiring->warnings) log.warn(w);
  return std::unique_ptr<Daemon>(new Daemon(cfg, std::move(world), log, *wiring));
}

Daemon::Daemon(const config::Config& cfg, World world, Log& log, const Wiring& wiring)
    : world_(std::move(world)),
      log_(log),
      cfg_(cfg),
      metrics_(kVersion),
      observer_(metrics_, log_, world_.clock),
      client_(wiring.etcd.clients),
      lock_(client_, lock_options(cfg, wiring.settings, world_)),
      loop_(client_, client_, lock_, world_.clock, hooks(), wiring.settings, observer_),
      certificates_(certificate_sink(metrics_), certificate_log(log_)) {
  if (wiring.certificates) certificates_.reset(*wiring.certificates, unix_now(world_.clock));
  webhook_ = webhook_settings(cfg.http);
  quota_probe_ = wiring.etcd.quota_probe;
  scanner_ = wiring.etcd.scanner;
  observer_.first_poll = [this] {
    world_.notifier.notify("READY=1");
    std::lock_guard l(cfg_mu_);
    log_.info("ready: first poll done, listening on " + listening_);
  };
  if (webhook_.token.empty())
    log_.info("webhook and /v1/defrag disabled: no http.webhook_token_file");
}

LoopHooks Daemon::hooks() {
  LoopHooks h;
  h.paused = [this] {
    std::lock_guard l(cfg_mu_);
    return !cfg_.policy.pause_file.empty() && std::filesystem::exists(cfg_.policy.pause_file);
  };
  h.in_window = [this](std::chrono::system_clock::time_point now) {
    std::lock_guard l(cfg_mu_);
    return config::in_window(cfg_.policy.maintenance_windows, now);
  };
  h.encode_last_run = encode_last_run_json;
  h.decode_last_run = decode_last_run_json;
  h.measure_disk_room = disk_room_hook();
  return h;
}

// The worker measures etcd.data_dir each poll; a failure is logged when it first shows (and
// again after it was readable), not every poll.
std::function<std::optional<defrag::DiskRoom>()> Daemon::disk_room_hook() {
  auto last_error = std::make_shared<std::string>();
  return [this, last_error]() -> std::optional<defrag::DiskRoom> {
    std::string dir;
    {
      std::lock_guard l(cfg_mu_);
      dir = cfg_.etcd.data_dir;
    }
    auto room = measure_data_dir(dir, unix_now(world_.clock));
    if (room) {
      last_error->clear();
      return *room;
    }
    if (*last_error != room.error().message) {
      *last_error = room.error().message;
      log_.warn(*last_error +
                " (its room on disk is not published; a run defragments this "
                "member without the check)");
    }
    return std::nullopt;
  };
}

WebhookSettings Daemon::webhook_settings(const config::HttpConfig& http) {
  WebhookSettings s{"", http.webhook_matchers, http.webhook_bypasses_rule};
  if (http.webhook_token_file.empty()) return s;
  auto token = http::read_token_file(http.webhook_token_file);
  if (!token) {
    log_.error("webhook disabled: " + token.error().message);
    return s;
  }
  s.token = std::move(*token);
  return s;
}

StepResult Daemon::step() {
  StepResult r = loop_.step();
  log_step(r);
  certificates_.after_poll(certificate_members(loop_.last_view()), world_.clock.now(),
                           unix_now(world_.clock));
  world_.notifier.notify("STATUS=last poll: " + decision_name(r.decision) +
                         "; actor: " + loop_.actor());
  scan_usage_if_due(r);
  return r;
}

void Daemon::scan_usage_if_due(const StepResult& r) {
  config::UsageScanConfig cfg;
  std::shared_ptr<etcd::KeyScanner> scanner;
  std::string endpoint;
  std::chrono::milliseconds poll_interval{0};
  {
    std::lock_guard l(cfg_mu_);
    cfg = cfg_.usage_scan;
    scanner = scanner_;
    endpoint = cfg_.etcd.local_endpoint;  // this host's member: the scan reads it alone
    if (endpoint.empty() && !cfg_.etcd.endpoints.empty()) endpoint = cfg_.etcd.endpoints.front();
    poll_interval = cfg_.policy.poll_interval;
  }
  UsageSliceInputs in;
  in.actor = loop_.lock_held();
  if (!in.actor && usage_exported_) {
    // Only the actor's scan is exported: a former actor's would linger, stale, beside it.
    metrics_.clear_usage_prefixes();
    usage_exported_ = false;
  }
  // Never right after a run (the next step may have more to do).
  if (!scanner || endpoint.empty() || r.report || loop_.stopping()) return;
  in.run_pending = loop_.run_pending();
  // Half a poll interval at most, so the next poll comes on time (and /healthz stays fresh).
  in.budget = std::max(poll_interval / 2, std::chrono::milliseconds(500));
  in.keep_going = [this] { return !loop_.stopping() && !loop_.run_pending(); };
  auto sample = usage_scan_.slice(*scanner, world_.clock, cfg, endpoint, in);
  if (!sample && sample.error().code == ErrorCode::kCompacted) {
    log_.info("usage scan on " + endpoint + " starts again: its revision was compacted");
  } else if (!sample) {
    log_.warn("usage scan on " + endpoint + " failed: " + sample.error().message);
  } else if (*sample) {
    metrics_.record_usage_scan(**sample);
    usage_exported_ = true;
    log_.info(usage_scan_line(**sample, endpoint));
  }
}

void Daemon::log_step(const StepResult& r) {
  switch (poll_log_.level(r)) {
    case PollLog::Level::kInfo:
      log_.info(PollLog::line_of(r));
      break;
    case PollLog::Level::kDebug:
      log_.debug(PollLog::line_of(r));
      break;
    case PollLog::Level::kNone:
      break;
  }
}

void Daemon::keep_alive() {
  if (auto s = loop_.keep_alive(); !s) log_.warn("lock: keep-alive failed: " + s.error().message);
}

void Daemon::expire_lock_if_due() { loop_.expire_lock_if_due(); }

void Daemon::reload(const config::Config& fresh) {
  etcd::QuotaProbe running_probe;
  {
    std::lock_guard l(cfg_mu_);
    cfg_ = fresh;
    log_.set_level(fresh.log.level);
    // The token file may have been rotated: read it again. Enabling or disabling the routes
    // themselves needs a restart.
    webhook_ = webhook_settings(fresh.http);
    running_probe = quota_probe_;
  }
  auto wiring = wire(fresh, world_);
  if (!wiring) {
    // The policy still applies; the connection stays as it was.
    log_.error("keeping the running etcd client: " + wiring.error().message);
    loop_.replace_settings(loop_settings(fresh, world_, running_probe));
    return;
  }
  for (const auto& w : wiring->warnings) log_.warn(w);
  client_.replace(wiring->etcd.clients);
  log_.info("etcd client rebuilt: certificates and credentials re-read");
  if (wiring->certificates) certificates_.reset(*wiring->certificates, unix_now(world_.clock));
  {
    std::lock_guard l(cfg_mu_);
    quota_probe_ = wiring->etcd.quota_probe;
    scanner_ = wiring->etcd.scanner;
  }
  loop_.replace_settings(wiring->settings);
}

void Daemon::request_stop() {
  world_.notifier.notify("STOPPING=1");
  loop_.request_stop();
}

void Daemon::release() {
  const bool held = loop_.release_lock();
  metrics_.set_lock_held(false);
  log_.info(held ? "stopped; lock released" : "stopped (did not hold the lock)");
}

http::Health Daemon::health() const { return observer_.health(poll_interval()); }

std::string Daemon::status_json() const {
  std::chrono::milliseconds min_interval;
  {
    std::lock_guard l(cfg_mu_);
    min_interval = cfg_.policy.min_interval;
  }
  return service::status_json(loop_, min_interval);
}

std::string Daemon::metrics_text() const { return metrics_.serialize(); }

void Daemon::count_webhook(unsigned status) { metrics_.count_webhook(static_cast<int>(status)); }

void Daemon::count_unauthorized(std::string_view reason) {
  metrics_.count_unauthorized(std::string(reason));
}

void Daemon::count_http_connection_rejected(std::string_view reason) {
  metrics_.count_http_connection_rejected(std::string(reason));
}

WebhookSettings Daemon::webhook() const {
  std::lock_guard l(cfg_mu_);
  return webhook_;
}

rule::Rule Daemon::rule() const {
  std::lock_guard l(cfg_mu_);
  return cfg_.policy.rule;
}

std::chrono::milliseconds Daemon::poll_interval() const {
  std::lock_guard l(cfg_mu_);
  return cfg_.policy.poll_interval;
}

std::chrono::seconds Daemon::lock_ttl() const {
  std::lock_guard l(cfg_mu_);
  return cfg_.lock.ttl;
}

void Daemon::set_listening(std::string where) {
  std::lock_guard l(cfg_mu_);
  listening_ = std::move(where);
}

}  // namespace edd::service
