#include "config/loader.h"

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <utility>

#include "common/duration.h"
#include "config/file_access.h"
#include "config/toml_reader.h"
#include "etcd/endpoint.h"

// Debian's libtomlplusplus is built with exceptions; its ABI namespace (toml::v3::ex) must match.
static_assert(TOML_EXCEPTIONS, "toml++ must be used with exceptions, as Debian builds it");

namespace edd::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using namespace std::chrono_literals;

// A deliberately slow defrag speed (the measured one is ~250 MB/s on a 2-core host): the lock
// TTL should outlive the leader's defrag of a quota-sized database even on slow disks.
constexpr double kSlowDefragBytesPerSecond = 50e6;

const std::vector<Section>& schema() {
  static const std::vector<Section> kSchema = {
      {"etcd",
       {"endpoints", "local_endpoint", "cluster", "cacert", "cert", "key", "user", "password_file",
        "dial_timeout", "command_timeout", "data_dir"}},
      {"policy",
       {"poll_interval", "rule", "quota_bytes", "compaction", "move_leader",
        "move_leader_min_stall", "auto_disalarm", "disalarm_threshold", "min_interval",
        "nospace_bypasses_min_interval", "defrag_during_version_change", "continue_on_error",
        "wait_between_defrags", "dry_run", "consistency_check", "pause_file", "maintenance_windows",
        "min_reclaim"}},
      {"lock", {"prefix", "ttl"}},
      {"http",
       {"listen", "cert", "key", "client_ca", "webhook_token_file", "webhook_matchers",
        "webhook_bypasses_rule", "body_limit_bytes", "max_connections",
        "max_connections_per_address", "request_head_timeout", "idle_timeout",
        "tls_handshake_timeout"}},
      {"log", {"level", "format"}},
      {"usage_scan", {"enabled", "interval", "top", "page_size", "rate"}},
  };
  return kSchema;
}

// The config's sections, each read into its part of Config with its own checks, then the checks
// that span sections.
class Loader : TomlReader {
 public:
  Loader(std::string_view text, std::string source)
      : TomlReader(text, std::move(source), schema()) {}

  LoadResult run() {
    LoadResult out;
    try {
      parse_and_validate();
    } catch (const toml::parse_error& e) {
      error(position(e.source()), "syntax error", std::string(e.description()));
    } catch (const std::exception& e) {
      error({}, "config", std::string("cannot load: ") + e.what());
    }
    out.errors = finish(errors_);
    out.warnings = finish(warnings_);
    if (out.errors.empty()) {
      config_.source = source_;
      out.config = std::move(config_);
    }
    return out;
  }

 private:
  void read_etcd(const toml::table* t) {
    constexpr std::string_view S = "etcd";
    EtcdConfig& e = config_.etcd;
    const bool endpoints_set = read_endpoints(t);
    if (auto s = word(t, S, "local_endpoint")) {
      if (auto ep = etcd::parse_endpoint(*s); !ep) {
        error(where(path(S, "local_endpoint")), path(S, "local_endpoint"), ep.error().message);
      } else {
        e.local_endpoint = *s;
        if (!endpoints_set && ok(path(S, "endpoints"))) e.endpoints = {*s};
      }
    }
    if (auto b = boolean(t, S, "cluster")) e.cluster = *b;
    if (auto p = file(t, S, "cacert", FileKind::kPublic)) e.cacert = *p;
    if (auto p = file(t, S, "cert", FileKind::kPublic)) e.cert = *p;
    if (auto p = file(t, S, "key", FileKind::kPrivateKey)) e.key = *p;
    read_etcd_user(t);
    if (auto d = duration(t, S, "dial_timeout", 1ms, 5min)) e.dial_timeout = *d;
    if (auto d = duration(t, S, "command_timeout", 1ms, 1h)) e.command_timeout = *d;
    pair_required(S, "cert", e.cert, "key", e.key, "a client certificate needs its key");
    read_data_dir(t);
  }

  void read_data_dir(const toml::table* t) {
    if (auto s = str(t, "etcd", "data_dir")) {
      const std::string key = path("etcd", "data_dir");
      if (s->empty() || s->size() > kMaxPathBytes || s->front() != '/' ||
          s->find('\n') != std::string::npos) {
        error(where(key), key,
              "must be an absolute directory path (etcd's --data-dir on this host), got " +
                  quoted(*s));
      } else {
        config_.etcd.data_dir = *s;
      }
    }
  }

  // Returns whether etcd.endpoints was given and every entry is an endpoint.
  bool read_endpoints(const toml::table* t) {
    const toml::node* n = lookup(t, "etcd", "endpoints");
    if (n == nullptr) return false;
    const std::string key = path("etcd", "endpoints");
    const auto* a = n->as_array();
    if (a == nullptr) {
      wrong_type(*n, key,
                 "an array of strings such as [\"https://10.0.0.1:2379\"] (a comma-separated "
                 "string is not accepted)");
      return false;
    }
    if (a->empty()) {
      error(position(n->source()), key, "lists no endpoint; name at least this host's member");
      return false;
    }
    std::vector<std::string> list;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::node& item = *a->get(i);
      const std::string item_key = key + "[" + std::to_string(i) + "]";
      auto s = string_at(item, item_key);
      if (!s) continue;
      auto ep = s->size() > kMaxValueBytes
                    ? Result<etcd::Endpoint>(
                          make_error(ErrorCode::kInvalidArgument, "too long to be an endpoint"))
                    : etcd::parse_endpoint(*s);
      if (!ep) {
        error(position(item.source()), item_key, ep.error().message);
        continue;
      }
      list.push_back(*s);
    }
    if (list.size() != a->size()) return false;
    config_.etcd.endpoints = std::move(list);
    return true;
  }

  // The user and the file holding its password go together; the password is never in the config.
  void read_etcd_user(const toml::table* t) {
    constexpr std::string_view S = "etcd";
    EtcdConfig& e = config_.etcd;
    if (auto s = str(t, S, "user")) {
      const std::string key = path(S, "user");
      // Never echo the value: "name:password" would print the password.
      if (s->find(':') != std::string::npos) {
        error(where(key), key,
              "must not contain ':' (no inline password; put it in etcd.password_file)");
      } else if (s->size() > kMaxValueBytes) {
        error(where(key), key, "is longer than " + std::to_string(kMaxValueBytes) + " bytes");
      } else {
        e.user = *s;
      }
    }
    if (auto p = file(t, S, "password_file", FileKind::kSecret)) e.password_file = *p;
    if (!e.user.empty() && e.password_file.empty() && ok(path(S, "password_file"))) {
      error(where(path(S, "user")), path(S, "user"),
            "needs etcd.password_file (the file holding the user's password)");
    }
    if (e.user.empty() && !e.password_file.empty() && ok(path(S, "user"))) {
      error(where(path(S, "password_file")), path(S, "password_file"), "needs etcd.user");
    }
  }

  void read_policy(const toml::table* t) {
    constexpr std::string_view S = "policy";
    PolicyConfig& p = config_.policy;
    if (auto d = duration(t, S, "poll_interval", 1s, 24h)) p.poll_interval = *d;
    if (const toml::node* n = lookup(t, S, "rule")) read_rule(*n);
    read_quota(t);
    read_run_policy(t);
    if (auto d = duration(t, S, "min_interval", 0s, 720h)) p.min_interval = *d;
    if (auto b = boolean(t, S, "nospace_bypasses_min_interval")) {
      p.nospace_bypasses_min_interval = *b;
    }
    if (auto b = boolean(t, S, "defrag_during_version_change")) {
      p.defrag_during_version_change = *b;
    }
    if (auto s = str(t, S, "pause_file")) {
      const std::string key = path(S, "pause_file");
      if (s->empty() || s->size() > kMaxPathBytes || s->front() != '/' || s->back() == '/') {
        error(
            where(key), key,
            "must be an absolute file path (its presence pauses every action), got " + quoted(*s));
      } else {
        p.pause_file = *s;
      }
    }
    read_windows(t);
  }

  void read_quota(const toml::table* t) {
    const auto q = integer(t, "policy", "quota_bytes");
    if (!q) return;
    constexpr std::int64_t kMin = 1LL << 20;
    constexpr std::int64_t kMax = 1LL << 40;
    if (*q != 0 && (*q < kMin || *q > kMax)) {
      error(where("policy.quota_bytes"), "policy.quota_bytes",
            "must be 0 (automatic) or between " + std::to_string(kMin) + " (1 MiB) and " +
                std::to_string(kMax) + " (1 TiB), got " + std::to_string(*q));
    } else {
      config_.policy.quota_bytes = *q;
    }
  }

  // The run's share of [policy]: the same choices as the defrag command's flags.
  void read_run_policy(const toml::table* t) {
    constexpr std::string_view S = "policy";
    policy::RunPolicy& p = config_.policy;
    if (auto b = boolean(t, S, "compaction")) p.compaction = *b;
    read_move_leader(t);
    if (auto d = duration(t, S, "move_leader_min_stall", 1ms, 1h)) p.move_leader_min_stall = *d;
    if (auto b = boolean(t, S, "auto_disalarm")) p.auto_disalarm = *b;
    if (auto x = number(t, S, "disalarm_threshold")) {
      if (!(*x > 0.0 && *x < 1.0)) {
        error(where(path(S, "disalarm_threshold")), path(S, "disalarm_threshold"),
              "must be between 0 and 1 (exclusive), e.g. 0.9, got " + format_number(*x));
      } else {
        p.disalarm_threshold = *x;
      }
    }
    if (auto b = boolean(t, S, "continue_on_error")) p.continue_on_error = *b;
    if (auto d = duration(t, S, "wait_between_defrags", 0s, 1h)) p.wait_between_defrags = *d;
    if (auto b = boolean(t, S, "dry_run")) p.dry_run = *b;
    if (auto b = boolean(t, S, "consistency_check")) p.consistency_check = *b;
    read_min_reclaim(t);
  }

  // A size ("64MiB"), a share of the quota ("2%") or an integer number of bytes.
  void read_min_reclaim(const toml::table* t) {
    const toml::node* n = lookup(t, "policy", "min_reclaim");
    if (n == nullptr) return;
    const std::string key = "policy.min_reclaim";
    std::string text;
    if (const auto* i = n->as_integer()) {
      text = std::to_string(i->get());
    } else if (const auto* s = n->as_string()) {
      text = s->get();
    } else {
      wrong_type(*n, key, "a size such as \"64MiB\", a share of the quota such as \"2%\" or bytes");
      return;
    }
    auto floor = policy::parse_reclaim_floor(text);
    if (!floor) {
      error(position(n->source()), key, floor.error().message);
      return;
    }
    config_.policy.min_reclaim = *floor;
  }

  void read_move_leader(const toml::table* t) {
    const toml::node* n = lookup(t, "policy", "move_leader");
    if (n == nullptr) return;
    const std::string key = "policy.move_leader";
    constexpr std::string_view kExpected = "true, false or \"auto\"";
    if (const auto* b = n->as_boolean()) {
      config_.policy.move_leader =
          b->get() ? policy::MoveLeader::kAlways : policy::MoveLeader::kNever;
    } else if (const auto* s = n->as_string()) {
      const std::string& v = s->get();
      if (v == "auto") {
        config_.policy.move_leader = policy::MoveLeader::kAuto;
      } else if (v == "true" || v == "false") {
        error(position(n->source()), key,
              "expected " + std::string(kExpected) + ", got the string " + quoted(v) + "; write " +
                  v + " without quotes");
      } else {
        error(position(n->source()), key,
              "expected " + std::string(kExpected) + ", got " + quoted(v));
      }
    } else {
      wrong_type(*n, key, kExpected);
    }
  }

  void read_windows(const toml::table* t) {
    const toml::node* n = lookup(t, "policy", "maintenance_windows");
    if (n == nullptr) return;
    const std::string key = "policy.maintenance_windows";
    const auto* a = n->as_array();
    if (a == nullptr) {
      wrong_type(*n, key, "an array of strings such as [\"Sat 02:00-04:00\"]");
      return;
    }
    std::vector<MaintenanceWindow> windows;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::node& item = *a->get(i);
      const std::string item_key = key + "[" + std::to_string(i) + "]";
      auto s = string_at(item, item_key, "a string such as \"Sat 02:00-04:00\"");
      if (!s) continue;
      if (s->size() > kMaxValueBytes) {
        error(position(item.source()), item_key, "too long to be a maintenance window");
        continue;
      }
      auto w = parse_maintenance_window(*s);
      if (!w) {
        error(position(item.source()), item_key, w.error().message);
        continue;
      }
      windows.push_back(std::move(*w));
    }
    config_.policy.maintenance_windows = std::move(windows);
  }

  // The column points into the rule string at the fault (source_map.h), not at its quote.
  void read_rule(const toml::node& n) {
    const std::string key = "policy.rule";
    auto text = string_at(n, key);
    if (!text) return;
    const auto fault = rule::Rule::diagnose(*text);
    if (!fault) {
      auto parsed = rule::Rule::parse(*text);
      if (parsed) config_.policy.rule = std::move(parsed).value();
      return;
    }
    SourcePosition at = position(n.source());
    const std::size_t offset = fault->column > 0 ? fault->column - 1 : 0;
    if (const auto inside = locate_in_string(text_, at, std::min(offset, text->size()))) {
      at = *inside;
    }
    error(at, key,
          "invalid rule: " + fault->reason + " (column " + std::to_string(fault->column) +
              " of the rule)");
  }

  void read_lock(const toml::table* t) {
    constexpr std::string_view S = "lock";
    LockConfig& l = config_.lock;
    if (auto s = word(t, S, "prefix")) {
      const std::string key = path(S, "prefix");
      if (s->empty() || s->back() == '/') {
        error(where(key), key,
              "must be a non-empty key prefix without a trailing '/' (keys are "
              "prefix/<lease-id>), got " +
                  quoted(*s));
      } else {
        l.prefix = *s;
      }
    }
    if (auto d = duration(t, S, "ttl", 10s, 1h)) {
      if (*d % 1s != 0ms) {
        error(where(path(S, "ttl")), path(S, "ttl"),
              "must be whole seconds (etcd lease TTLs are), got " + format_go_duration(*d));
      } else {
        l.ttl = std::chrono::duration_cast<std::chrono::seconds>(*d);
      }
    }
  }

  void read_http(const toml::table* t) {
    constexpr std::string_view S = "http";
    HttpConfig& h = config_.http;
    if (auto s = word(t, S, "listen")) {
      if (auto a = parse_listen_address(*s); !a) {
        error(where(path(S, "listen")), path(S, "listen"), a.error().message);
      } else {
        h.listen = *a;
      }
    }
    if (auto p = file(t, S, "cert", FileKind::kPublic)) h.cert = *p;
    if (auto p = file(t, S, "key", FileKind::kPrivateKey)) h.key = *p;
    if (auto p = file(t, S, "client_ca", FileKind::kPublic)) h.client_ca = *p;
    if (auto p = file(t, S, "webhook_token_file", FileKind::kSecret)) h.webhook_token_file = *p;
    read_webhook_matchers(t);
    if (auto b = boolean(t, S, "webhook_bypasses_rule")) h.webhook_bypasses_rule = *b;
    read_body_limit(t);
    read_http_limits(t);
    pair_required(S, "cert", h.cert, "key", h.key, "TLS needs both");
    if (!h.client_ca.empty() && (h.cert.empty() || h.key.empty()) && ok(path(S, "cert")) &&
        ok(path(S, "key"))) {
      error(where(path(S, "client_ca")), path(S, "client_ca"),
            "needs http.cert and http.key (client certificates are checked only over TLS)");
    }
  }

  void read_webhook_matchers(const toml::table* t) {
    const toml::node* n = lookup(t, "http", "webhook_matchers");
    if (n == nullptr) return;
    const std::string key = "http.webhook_matchers";
    const auto* a = n->as_array();
    if (a == nullptr) {
      wrong_type(*n, key, "an array of strings such as [\"remediation=etcd-defrag\"]");
      return;
    }
    std::vector<std::pair<std::string, std::string>> matchers;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::node& item = *a->get(i);
      const std::string item_key = key + "[" + std::to_string(i) + "]";
      auto m = string_at(item, item_key, "a string such as \"remediation=etcd-defrag\"");
      if (!m) continue;
      const auto eq = m->find('=');
      if (eq == std::string::npos || eq == 0 || m->size() > kMaxValueBytes) {
        error(position(item.source()), item_key,
              "expected label=value, such as \"remediation=etcd-defrag\"");
        continue;
      }
      matchers.emplace_back(m->substr(0, eq), m->substr(eq + 1));
    }
    config_.http.webhook_matchers = std::move(matchers);
  }

  void read_body_limit(const toml::table* t) {
    const toml::node* n = lookup(t, "http", "body_limit_bytes");
    if (n == nullptr) return;
    const std::string key = "http.body_limit_bytes";
    if (const auto* v = n->as_integer(); v == nullptr) {
      wrong_type(*n, key, "an integer number of bytes");
    } else if (v->get() < 1024 || v->get() > 64LL * 1024 * 1024) {
      error(position(n->source()), key, "must be between 1024 and 67108864 bytes");
    } else {
      config_.http.body_limit_bytes = static_cast<std::size_t>(v->get());
    }
  }

  // The listener's caps and deadlines against clients that hold connections open.
  void read_http_limits(const toml::table* t) {
    constexpr std::string_view S = "http";
    constexpr std::int64_t kMaxCap = 16384;
    HttpConfig& h = config_.http;
    auto cap = [&](std::string_view name) -> std::optional<std::size_t> {
      const toml::node* n = lookup(t, S, name);
      if (n == nullptr) return std::nullopt;
      const std::string key = path(S, name);
      if (const auto* v = n->as_integer(); v == nullptr) {
        wrong_type(*n, key, "an integer number of connections");
      } else if (v->get() < 1 || v->get() > kMaxCap) {
        error(position(n->source()), key,
              "must be between 1 and " + std::to_string(kMaxCap) + " connections, got " +
                  std::to_string(v->get()));
      } else {
        return static_cast<std::size_t>(v->get());
      }
      return std::nullopt;
    };
    if (auto n = cap("max_connections")) h.max_connections = *n;
    if (auto n = cap("max_connections_per_address")) h.max_connections_per_address = *n;
    if (h.max_connections_per_address > h.max_connections) {
      const std::string key = path(S, "max_connections_per_address");
      error(where(key), key,
            "must not exceed http.max_connections (" + std::to_string(h.max_connections) + ")");
    }
    if (auto d = duration(t, S, "request_head_timeout", 100ms, 10min)) h.request_head_timeout = *d;
    if (auto d = duration(t, S, "idle_timeout", 1s, 1h)) h.idle_timeout = *d;
    if (auto d = duration(t, S, "tls_handshake_timeout", 100ms, 10min)) {
      h.tls_handshake_timeout = *d;
    }
  }

  void read_usage_scan(const toml::table* t) {
    constexpr std::string_view S = "usage_scan";
    UsageScanConfig& u = config_.usage_scan;
    if (auto b = boolean(t, S, "enabled")) u.enabled = *b;
    if (auto d = duration(t, S, "interval", 1s, 24h * 7)) u.interval = *d;
    auto bounded = [&](std::string_view name, std::int64_t lo, std::int64_t hi,
                       std::int64_t& into) {
      const auto v = integer(t, S, name);
      if (!v) return;
      if (*v < lo || *v > hi) {
        error(where(path(S, name)), path(S, name),
              "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                  std::to_string(*v));
        return;
      }
      into = *v;
    };
    bounded("top", 1, 100, u.top);
    bounded("page_size", 1, 10000, u.page_size);
    if (auto r = number(t, S, "rate")) {
      if (!(*r >= 1 && *r <= 1e6)) {
        error(where(path(S, "rate")), path(S, "rate"),
              "must be between 1 and 1000000 keys per second, got " + std::to_string(*r));
      } else {
        u.rate = *r;
      }
    }
  }

  void read_log(const toml::table* t) {
    constexpr std::string_view S = "log";
    LogConfig& g = config_.log;
    if (auto s = word(t, S, "level")) {
      static constexpr std::array<std::pair<std::string_view, LogLevel>, 5> kLevels = {{
          {"trace", LogLevel::kTrace},
          {"debug", LogLevel::kDebug},
          {"info", LogLevel::kInfo},
          {"warn", LogLevel::kWarn},
          {"error", LogLevel::kError},
      }};
      const auto it = std::find_if(kLevels.begin(), kLevels.end(),
                                   [&](const auto& l) { return l.first == *s; });
      if (it == kLevels.end()) {
        error(where(path(S, "level")), path(S, "level"),
              "expected trace, debug, info, warn or error, got " + quoted(*s));
      } else {
        g.level = it->second;
      }
    }
    if (auto s = word(t, S, "format")) {
      if (*s == "text") {
        g.format = LogFormat::kText;
      } else if (*s == "json") {
        g.format = LogFormat::kJson;
      } else {
        error(where(path(S, "format")), path(S, "format"),
              "expected text or json, got " + quoted(*s));
      }
    }
  }

  // `a` and `b` of one section go together: an error at whichever is given alone.
  void pair_required(std::string_view section, std::string_view a, const std::string& a_value,
                     std::string_view b, const std::string& b_value, std::string_view why) {
    const std::string ka = path(section, a);
    const std::string kb = path(section, b);
    if (!ok(ka) || !ok(kb)) return;
    if (!a_value.empty() && b_value.empty()) {
      error(where(ka), ka, "needs " + kb + " (" + std::string(why) + ")");
    } else if (a_value.empty() && !b_value.empty()) {
      error(where(kb), kb, "needs " + ka + " (" + std::string(why) + ")");
    }
  }

  // The lock's lease must outlive every single call the actor makes while holding it: a
  // keep-alive or ownership check that hangs for command_timeout must fail before the lease can
  // expire and another daemon take over. And it should outlive the leader's defrag, during which
  // etcd answers no keep-alive (measured: docs/architecture.md, "Facts measured on etcd").
  void cross_checks() {
    const auto& ttl = config_.lock.ttl;
    const auto& command_timeout = config_.etcd.command_timeout;
    if (ok("lock.ttl") && ok("etcd.command_timeout") && ttl <= command_timeout) {
      constexpr std::string_view kWhy =
          ": a keep-alive that hangs must fail before the lease expires";
      if (where("lock.ttl").line > 0) {
        error(where("lock.ttl"), "lock.ttl",
              "must be longer than etcd.command_timeout (" + format_go_duration(command_timeout) +
                  "), got " + format_go_duration(ttl) + std::string(kWhy));
      } else {
        error(where("etcd.command_timeout"), "etcd.command_timeout",
              "must be shorter than lock.ttl (" + format_go_duration(ttl) + "), got " +
                  format_go_duration(command_timeout) + std::string(kWhy));
      }
    }
    if (ok("lock.ttl") && ok("policy.quota_bytes")) {
      const double seconds =
          static_cast<double>(config_.policy.fallback_quota_bytes()) / kSlowDefragBytesPerSecond;
      if (seconds > static_cast<double>(ttl.count())) {
        const bool ttl_given = where("lock.ttl").line > 0;
        warning(ttl_given ? where("lock.ttl") : where("policy.quota_bytes"),
                ttl_given ? "lock.ttl" : "policy.quota_bytes",
                format_go_duration(ttl) + " may not outlive the leader's defrag of a " +
                    std::to_string(config_.policy.fallback_quota_bytes()) +
                    "-byte database (about " + std::to_string(static_cast<long long>(seconds)) +
                    "s at 50 MB/s), during which etcd answers no keep-alive; raise lock.ttl");
      }
    }
  }

  static std::string format_number(double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", x);
    return buf;
  }

  const toml::table* section(const toml::table& root, std::string_view name) {
    const toml::node* n = root.get(name);
    return n != nullptr ? n->as_table() : nullptr;
  }

  void parse_and_validate() {
    const toml::table root = toml::parse(text_, std::string_view(source_));
    check_root(root);
    for (const auto& s : schema()) {
      if (const toml::table* t = section(root, s.name)) check_keys(*t, s);
    }
    read_etcd(section(root, "etcd"));
    read_policy(section(root, "policy"));
    read_lock(section(root, "lock"));
    read_http(section(root, "http"));
    read_log(section(root, "log"));
    read_usage_scan(section(root, "usage_scan"));
    cross_checks();
  }

  Config config_;
};

}  // namespace

LoadResult load_config_string(std::string_view toml, const std::string& source_name) {
  if (toml.size() > kMaxConfigBytes) {
    LoadResult out;
    out.errors.push_back(escape(source_name) + ": the config is " + std::to_string(toml.size()) +
                         " bytes long; the limit is " + std::to_string(kMaxConfigBytes));
    return out;
  }
  return Loader(toml, source_name).run();
}

LoadResult load_config_file(const std::string& path) {
  auto contents = read_small_file(path, kMaxConfigBytes);
  if (!contents) {
    LoadResult out;
    out.errors.push_back(escape(path) + ": " + escape(contents.error().message));
    return out;
  }
  return load_config_string(contents->bytes, path);
}

}  // namespace edd::config
