// edd_daemon_bench: the daemon's performance figures, measured on real etcd clusters with real
// `etcd-defragd run` processes (tests/support/daemon_process.h):
//   1. time to recover from NOSPACE with no human action (three daemons, 16 MiB quota);
//   2. an idle daemon's resident memory and CPU (three daemons watching three members);
//   3. /metrics latency under a paced 200 requests/s, and wrk's saturation figures;
//   4. rule turns true -> run started.
// A benchmark that prints figures, each beside its target and MET / NOT MET as measured; it never
// fails on them. Not part of `all` nor of ctest: run tests/bench/run_daemon_bench.sh.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/etcd_cluster.h"
#include "harness/process.h"
#include "support/base64.h"
#include "support/clocks.h"
#include "support/daemon_process.h"
#include "support/files.h"
#include "support/metrics_text.h"

namespace edd::bench {
namespace {

namespace json = boost::json;
using edd::test::base64_encode;
using edd::test::ClusterOptions;
using edd::test::daemon_log_time;
using edd::test::DaemonProcess;
using edd::test::Daemons;
using edd::test::DaemonSettings;
using edd::test::EtcdCluster;
using edd::test::lock_holder;
using edd::test::metric_sum;
using edd::test::read_file;
using edd::test::start_daemons;
using edd::test::wall_now_s;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kDefaultRule = "dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024";
constexpr const char* kNeverRule = "dbSize < 0";

struct Options {
  std::string sections = "1,2,3,4";
  int poll_seconds = 5;
  int repeats = 5;
  int worst_repeats = 3;
  double idle_seconds = 300;
  double metrics_seconds = 30;
  double metrics_rate = 200;
  double wrk_seconds = 10;
  unsigned seed = 0;  // 0: random
  bool keep_dir = false;
  std::string base_dir;  // set by run(): this run's own directory, one subdirectory per cluster
};

// ---- small helpers -------------------------------------------------------------------------

__attribute__((format(printf, 1, 2))) std::string strf(const char* format, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  return buf;
}

void say(const std::string& line) { std::cout << line << std::endl; }

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

void sleep_s(double s) {
  if (s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

std::string loadavg() {
  std::string s = read_file("/proc/loadavg");
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Nearest-rank percentile; NaN when empty.
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(v.size()));
  const auto idx = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(v.size())));
  return v[idx - 1];
}

std::string met(bool ok) { return ok ? "MET" : "NOT MET"; }

std::int64_t json_i64(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) return static_cast<std::int64_t>(v.as_uint64());
  if (v.is_string()) return std::stoll(std::string(v.as_string()));
  return 0;
}

// ---- a keep-alive HTTP/1.1 client on a plain socket -----------------------------------------

class HttpClient {
 public:
  struct Reply {
    int status = 0;
    std::string body;
  };

  HttpClient(std::string host, int port) : host_(std::move(host)), port_(port) {}
  ~HttpClient() { disconnect(); }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request on the kept-alive connection (opened on first use). A connection the server
  // closed while idle is reopened once. Throws std::runtime_error on any other failure.
  Reply request(const std::string& method, const std::string& path, const std::string& body = {}) {
    std::string req =
        method + " " + path + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port_) + "\r\n";
    if (!body.empty() || method == "POST") {
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    }
    req += "\r\n";
    req += body;
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = fd_ >= 0;
      if (fd_ < 0) connect_now();
      if (!send_all(req)) {
        disconnect();
        if (reused) continue;
        throw std::runtime_error("send: " + std::string(std::strerror(errno)));
      }
      Reply r;
      bool got_nothing = false;
      if (read_reply(&r, &got_nothing)) return r;
      disconnect();
      if (!(reused && got_nothing)) throw std::runtime_error("connection lost mid-reply");
    }
    throw std::runtime_error("connection closed twice");
  }

 private:
  void connect_now() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      const std::string why = std::strerror(errno);
      disconnect();
      throw std::runtime_error("connect to port " + std::to_string(port_) + ": " + why);
    }
    buf_.clear();
  }
  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }
  bool send_all(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Appends to buf_; false on EOF or error.
  bool fill() {
    char chunk[65536];
    while (true) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }
  bool need(std::size_t bytes) {
    while (buf_.size() < bytes) {
      if (!fill()) return false;
    }
    return true;
  }
  bool read_reply(Reply* r, bool* got_nothing) {
    std::size_t end = 0;
    *got_nothing = buf_.empty();
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return false;
      *got_nothing = false;
    }
    *got_nothing = false;
    const std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    if (std::sscanf(head.c_str(), "HTTP/1.%*d %d", &r->status) != 1) return false;
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool close_after = lower.find("\r\nconnection: close") != std::string::npos;
    if (lower.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
      while (true) {
        std::size_t eol = 0;
        while ((eol = buf_.find("\r\n")) == std::string::npos) {
          if (!fill()) return false;
        }
        const std::size_t size = std::stoul(buf_.substr(0, eol), nullptr, 16);
        buf_.erase(0, eol + 2);
        if (size == 0) break;
        if (!need(size + 2)) return false;
        r->body.append(buf_, 0, size);
        buf_.erase(0, size + 2);
      }
      // Trailer lines (etcd's gateway sends Grpc-Trailer-*), then an empty line.
      while (true) {
        std::size_t eol = 0;
        while ((eol = buf_.find("\r\n")) == std::string::npos) {
          if (!fill()) return false;
        }
        buf_.erase(0, eol + 2);
        if (eol == 0) break;
      }
    } else {
      std::size_t length = 0;
      const auto at = lower.find("\r\ncontent-length:");
      if (at != std::string::npos) length = std::stoul(lower.substr(at + 17));
      if (!need(length)) return false;
      r->body = buf_.substr(0, length);
      buf_.erase(0, length);
    }
    if (close_after) disconnect();
    return true;
  }

  std::string host_;
  int port_;
  int fd_ = -1;
  std::string buf_;
};

int port_of(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

// etcd's JSON gateway on a member's client port.
class Gateway {
 public:
  explicit Gateway(const std::string& endpoint) : http_("127.0.0.1", port_of(endpoint)) {}
  HttpClient::Reply put(const std::string& key, const std::string& value_b64) {
    return http_.request(
        "POST", "/v3/kv/put",
        "{\"key\":\"" + base64_encode(key) + "\",\"value\":\"" + value_b64 + "\"}");
  }
  std::int64_t db_size() {
    const auto r = http_.request("POST", "/v3/maintenance/status", "{}");
    if (r.status != 200) throw std::runtime_error("status: HTTP " + std::to_string(r.status));
    const json::value v = json::parse(r.body);
    const auto* size = v.as_object().if_contains("dbSize");
    return size ? json_i64(*size) : 0;
  }

 private:
  HttpClient http_;
};

bool is_nospace(const HttpClient::Reply& r) {
  return r.body.find("database space exceeded") != std::string::npos;
}

// ---- the daemon's process and log ----------------------------------------------------------

// DaemonProcess keeps its PID to itself: find our child whose command line names its config.
pid_t daemon_pid(const DaemonProcess& d) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const std::string cmdline = read_file(entry.path() / "cmdline");
    if (cmdline.find(std::string("\0", 1) + d.config_path() + std::string("\0", 1)) ==
        std::string::npos) {
      continue;
    }
    const std::string stat = read_file(entry.path() / "stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + paren + 1, " %*c %d", &ppid) == 1 && ppid == ::getpid()) {
      return static_cast<pid_t>(std::stoi(name));
    }
  }
  return 0;
}

struct ProcSample {
  long rss_kb = -1;
  long hwm_kb = -1;
  long anon_kb = -1;  // RssAnon: the heap and stacks, this process's own
  long file_kb = -1;  // RssFile: mapped files (shared libraries), shareable
  int threads = 0;
  double cpu_s = 0;  // utime + stime
  SteadyClock::time_point at = SteadyClock::now();
};

ProcSample sample_proc(pid_t pid) {
  ProcSample s;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::istringstream status(read_file(dir + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) s.rss_kb = std::stol(line.substr(6));
    if (line.starts_with("VmHWM:")) s.hwm_kb = std::stol(line.substr(6));
    if (line.starts_with("RssAnon:")) s.anon_kb = std::stol(line.substr(8));
    if (line.starts_with("RssFile:")) s.file_kb = std::stol(line.substr(8));
    if (line.starts_with("Threads:")) s.threads = std::stoi(line.substr(8));
  }
  const std::string stat = read_file(dir + "/stat");
  const auto paren = stat.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields(stat.substr(paren + 2));
    std::vector<std::string> f;
    for (std::string tok; fields >> tok;) f.push_back(tok);
    // f[0] is field 3 (state): utime is field 14, stime field 15.
    if (f.size() > 12) {
      const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
      s.cpu_s = static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) / ticks;
    }
  }
  s.at = SteadyClock::now();
  return s;
}

double mib(long kb) { return static_cast<double>(kb) / 1024.0; }

// Pss (kB) from /proc/PID/smaps_rollup: shared pages divided among the processes mapping them.
long pss_kb(pid_t pid) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/smaps_rollup"));
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Pss:")) return std::stol(line.substr(4));
  }
  return -1;
}

// Resident kB per mapped file (or [heap], [stack], anonymous), largest first.
std::vector<std::pair<long, std::string>> rss_by_mapping(pid_t pid) {
  std::map<std::string, long> by;
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/smaps"));
  std::string current;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Rss:")) {
      by[current] += std::stol(line.substr(4));
      continue;
    }
    const auto colon = line.find(':');
    const auto space = line.find(' ');
    if (space != std::string::npos && (colon == std::string::npos || colon > space)) {
      // A mapping header: "start-end perms offset dev inode [path]".
      std::istringstream f(line);
      std::string range, perms, offset, dev, inode, path;
      f >> range >> perms >> offset >> dev >> inode;
      std::getline(f, path);
      path.erase(0, std::min(path.size(), path.find_first_not_of(' ')));
      current = path.empty() ? "[anonymous]" : path;
    }
  }
  std::vector<std::pair<long, std::string>> out;
  for (const auto& [path, kb] : by) out.emplace_back(kb, path);
  std::sort(out.rbegin(), out.rend());
  return out;
}

// Timestamps of the daemon's log lines that contain needle and are not older than after
// (the log has millisecond resolution, truncated: allow for it).
std::vector<double> log_times(const DaemonProcess& d, const std::string& needle, double after) {
  std::vector<double> out;
  std::istringstream in(d.log());
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) == std::string::npos) continue;
    if (auto ts = daemon_log_time(line); ts && *ts >= after - 0.002) out.push_back(*ts);
  }
  return out;
}

std::size_t count_in_log(const DaemonProcess& d, const std::string& needle) {
  const std::string text = d.log();
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Rewrites [policy] rule and min_interval in the daemon's config and reloads it with SIGHUP.
void reload_policy(DaemonProcess& d, const std::string& rule, const std::string& min_interval) {
  const std::string old = read_file(d.config_path());
  if (old.empty()) {
    throw std::runtime_error("cannot read " + d.config_path() +
                             " (was the benchmark's directory removed meanwhile?)");
  }
  std::istringstream in(old);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("rule = ")) line = "rule = \"" + rule + "\"";
    if (line.starts_with("min_interval = ")) line = "min_interval = \"" + min_interval + "\"";
    out += line + "\n";
  }
  std::ofstream(d.config_path()) << out;
  const std::size_t before = count_in_log(d, "config reloaded");
  d.signal(SIGHUP);
  if (!edd::test::eventually(std::chrono::seconds(5),
                             [&] { return count_in_log(d, "config reloaded") > before; })) {
    throw std::runtime_error("the daemon did not reload its config:\n" + d.log());
  }
}

struct SummaryRow {
  std::string figure, measured, target, verdict;
};

struct MinMedMax {
  double min = 0, median = 0, max = 0;
};

MinMedMax min_med_max(const std::vector<double>& v) {
  if (v.empty()) return {std::nan(""), std::nan(""), std::nan("")};
  return {*std::min_element(v.begin(), v.end()), percentile(v, 50),
          *std::max_element(v.begin(), v.end())};
}

std::string mmm(const MinMedMax& m, const char* unit) {
  return strf("%.2f / %.2f / %.2f %s", m.min, m.median, m.max, unit);
}

// ---- 1. NOSPACE -> writes accepted again ---------------------------------------------------

struct NospaceRep {
  bool ok = false;
  std::string note;
  int fill_puts = 0;
  int refused_retries = 0;
  int other_errors = 0;
  int actor = -1;
  double refused = 0, accepted = 0;          // wall clock, seconds
  double refused_sent = 0;                   // when the first refused put was sent
  double run_start = 0, disarmed = 0;        // the actor's log
  double first_defrag = 0, last_defrag = 0;  // the members' logs
  double defrag_sum = 0;
  int defrags = 0;
  double recovery() const { return accepted - refused; }
};

void section_nospace(const Options& o, std::mt19937& rng, std::vector<SummaryRow>& summary) {
  say("");
  say("== 1. NOSPACE -> writes accepted again, no human action ==");
  ClusterOptions co;
  co.quota_backend_bytes = 16LL * 1024 * 1024;
  co.name = "nsp";
  co.base_dir = o.base_dir + "/nospace";
  auto cluster = EtcdCluster::start(co);
  DaemonSettings s;
  s.poll_interval = std::to_string(o.poll_seconds) + "s";
  s.rule = "dbQuotaUsage > 2";  // never: only NOSPACE itself may trigger a run
  s.ttl = "60s";
  auto daemons = start_daemons(*cluster, s);
  const int holder = lock_holder(daemons, std::chrono::seconds(30));
  say(
      strf("cluster: 3 members, quota 16 MiB; daemons: poll %ds, rule \"%s\", min_interval 1h "
           "(NOSPACE bypasses it); lock held by daemon %d before any fill",
           o.poll_seconds, s.rule.c_str(), holder));
  say("writer: after a random pause in [0, poll), overwrites one key with 256 KiB values "
      "through member 0's JSON gateway until \"database space exceeded\", then retries every "
      "50 ms until a write is accepted");

  std::string value(256 * 1024, '\0');
  for (auto& c : value) c = static_cast<char>(rng() & 0xff);
  const std::string value_b64 = base64_encode(value);
  Gateway writer(cluster->client_endpoint(0));

  std::vector<NospaceRep> reps;
  for (int rep = 1; rep <= o.repeats; ++rep) {
    NospaceRep r;
    // A random pause first: the fill takes a near-constant time after the previous run, which
    // would otherwise put every refusal at the same point of the daemons' poll cycle.
    sleep_s(std::uniform_real_distribution<double>(0, o.poll_seconds)(rng));
    // Fill.
    while (r.fill_puts < 1000) {
      const double sent = wall_now_s();
      const auto reply = writer.put("/bench/fill", value_b64);
      if (reply.status == 200) {
        ++r.fill_puts;
        continue;
      }
      if (is_nospace(reply)) {
        r.refused = wall_now_s();
        r.refused_sent = sent;
        break;
      }
      if (++r.other_errors > 20) break;
      r.note = "fill: HTTP " + std::to_string(reply.status) + " " + reply.body.substr(0, 200);
      sleep_s(0.05);
    }
    if (r.refused == 0) {
      r.note = "never refused; " + r.note;
      reps.push_back(r);
      say(strf("rep %d: FAILED: %s", rep, r.note.c_str()));
      break;
    }
    // Retry every 50 ms until accepted.
    while (wall_now_s() < r.refused + 120) {
      sleep_s(0.05);
      const auto reply = writer.put("/bench/fill", value_b64);
      if (reply.status == 200) {
        r.accepted = wall_now_s();
        break;
      }
      if (is_nospace(reply)) {
        ++r.refused_retries;
      } else {
        ++r.other_errors;
        r.note = "retry: HTTP " + std::to_string(reply.status) + " " + reply.body.substr(0, 200);
      }
    }
    // The run: who, when, and until its end (the HashKV check runs after the disarm).
    for (std::size_t i = 0; i < daemons.size() && r.actor < 0; ++i) {
      const auto starts = log_times(*daemons[i], "starting a run (nospace)", r.refused - 1);
      if (!starts.empty()) {
        r.actor = static_cast<int>(i);
        r.run_start = starts.front();
      }
    }
    if (r.actor >= 0) {
      const auto& actor = *daemons[static_cast<std::size_t>(r.actor)];
      edd::test::eventually(std::chrono::seconds(60), [&] {
        return !log_times(actor, "run finished (", r.run_start).empty();
      });
      const auto disarms = log_times(actor, "Disarmed NOSPACE", r.run_start);
      if (!disarms.empty()) r.disarmed = disarms.back();
    }
    double open_start = 0;
    for (const auto& e : cluster->defrag_events()) {
      if (e.ts < r.refused - 0.002) continue;
      if (e.msg == "starting defragment") {
        if (r.first_defrag == 0) r.first_defrag = e.ts;
        open_start = e.ts;
      } else if (open_start != 0) {
        r.defrag_sum += e.ts - open_start;
        r.last_defrag = e.ts;
        ++r.defrags;
        open_start = 0;
      }
    }
    r.ok = r.accepted != 0;
    reps.push_back(r);
    const double target = o.poll_seconds + r.defrag_sum + 2;
    if (!r.ok) {
      say(strf("rep %d: NOT RECOVERED within 120 s (%s)", rep, r.note.c_str()));
      break;
    }
    say(strf("rep %d: %d puts to fill; recovery %.3f s (target <= %d + %.3f + 2 = %.3f s: %s)", rep,
             r.fill_puts, r.recovery(), o.poll_seconds, r.defrag_sum, target,
             met(r.recovery() <= target).c_str()));
    if (r.run_start != 0 && r.first_defrag != 0 && r.disarmed != 0) {
      say(
          strf("       = wait for the next poll %.3f + health/status/compaction %.3f + "
               "%d defrags %.3f + between defrags %.3f + to disarm %.3f + to the first accepted "
               "write %.3f (%d refused retries; actor: daemon %d)",
               r.run_start - r.refused, r.first_defrag - r.run_start, r.defrags, r.defrag_sum,
               r.last_defrag - r.first_defrag - r.defrag_sum, r.disarmed - r.last_defrag,
               r.accepted - r.disarmed, r.refused_retries, r.actor));
      if (r.run_start < r.refused || r.refused - r.refused_sent > 0.5) {
        say(
            strf("       note: the refused put took %.3f s to be answered; the run started "
                 "%.3f s after it was sent",
                 r.refused - r.refused_sent, r.run_start - r.refused_sent));
      }
      if (r.first_defrag - r.run_start > 1.0) {
        say("       the actor's log from the run's start to the first defrag:");
        const auto& actor = *daemons[static_cast<std::size_t>(r.actor)];
        std::istringstream in(actor.log());
        for (std::string line; std::getline(in, line);) {
          const auto ts = daemon_log_time(line);
          if (ts && *ts >= r.run_start - 0.002 && *ts <= r.first_defrag + 0.002) {
            say("       | " + line);
          }
        }
      }
    } else {
      say(strf("       (run start, defrags or disarm not found in the logs; actor %d)", r.actor));
    }
    if (r.other_errors > 0)
      say("       other errors: " + std::to_string(r.other_errors) + ": " + r.note);
  }

  std::vector<double> rec, slack;
  bool all_met = !reps.empty();
  for (const auto& r : reps) {
    if (!r.ok) {
      all_met = false;
      continue;
    }
    rec.push_back(r.recovery());
    const double target = o.poll_seconds + r.defrag_sum + 2;
    slack.push_back(target - r.recovery());
    all_met = all_met && r.recovery() <= target;
  }
  std::vector<double> waits, defr, after;
  for (const auto& r : reps) {
    if (!r.ok || r.run_start == 0) continue;
    waits.push_back(r.run_start - r.refused);
    defr.push_back(r.defrag_sum);
    if (r.disarmed != 0) after.push_back(r.accepted - r.disarmed);
  }
  const auto m = min_med_max(rec);
  say(
      strf("recovery over %zu reps: min/median/max %s; of which wait for the poll %s, defrags "
           "%s, disarm -> accepted write %s",
           rec.size(), mmm(m, "s").c_str(), mmm(min_med_max(waits), "s").c_str(),
           mmm(min_med_max(defr), "s").c_str(), mmm(min_med_max(after), "s").c_str()));
  summary.push_back({"NOSPACE -> writes again (min/med/max)", mmm(m, "s"),
                     strf("<= %ds + defrags + 2s, each rep", o.poll_seconds),
                     met(all_met) + strf(" (%zu/%d reps)", rec.size(), o.repeats)});
  if (!slack.empty()) {
    summary.push_back({"  slack to that target (min)",
                       strf("%.2f s", *std::min_element(slack.begin(), slack.end())), "> 0", ""});
  }
}

// ---- 2, 3, 4 share one cluster and three daemons --------------------------------------------

void section_idle(const Options& o, const Daemons& daemons, std::vector<SummaryRow>& summary) {
  say("");
  say(strf("== 2. idle: three daemons watching three members at a %ds poll, %.0f s ==",
           o.poll_seconds, o.idle_seconds));
  say(strf("rule \"%s\" (false on this cluster); nothing scrapes /metrics meanwhile",
           kDefaultRule));
  std::vector<pid_t> pids;
  std::vector<ProcSample> start;
  for (const auto& d : daemons) {
    pids.push_back(daemon_pid(*d));
    if (pids.back() == 0) throw std::runtime_error("no process for " + d->config_path());
    start.push_back(sample_proc(pids.back()));
  }
  for (std::size_t i = 0; i < daemons.size(); ++i) {
    say(strf("daemon %zu: pid %d, after READY: VmRSS %.1f MiB (%ld kB), VmHWM %.1f MiB", i,
             static_cast<int>(pids[i]), mib(start[i].rss_kb), start[i].rss_kb,
             mib(start[i].hwm_kb)));
  }
  const auto t0 = SteadyClock::now();
  double next_print = 60;
  while (seconds_since(t0) < o.idle_seconds) {
    sleep_s(std::min(1.0, o.idle_seconds - seconds_since(t0)));
    if (seconds_since(t0) >= next_print && seconds_since(t0) < o.idle_seconds) {
      std::string line = strf("  t=%3.0fs VmRSS:", next_print);
      for (pid_t p : pids) line += strf(" %.1f MiB", mib(sample_proc(p).rss_kb));
      say(line);
      next_print += 60;
    }
  }
  long max_rss = 0, max_hwm = 0;
  double max_cpu = 0;
  for (std::size_t i = 0; i < daemons.size(); ++i) {
    const ProcSample end = sample_proc(pids[i]);
    const double elapsed = std::chrono::duration<double>(end.at - start[i].at).count();
    const double cpu = 100.0 * (end.cpu_s - start[i].cpu_s) / elapsed;
    const std::string metrics = daemons[i]->get("/metrics");
    const double polls = metric_sum(metrics, "etcd_defragd_poll_duration_seconds_count");
    const double poll_sum = metric_sum(metrics, "etcd_defragd_poll_duration_seconds_sum");
    say(
        strf("daemon %zu: after %.0f s: VmRSS %.1f MiB (%ld kB), peak VmHWM %.1f MiB (%ld kB); "
             "CPU %.2f s = %.3f %% of one core; %.0f polls, mean poll %.1f ms; lock held %.0f; %s",
             i, elapsed, mib(end.rss_kb), end.rss_kb, mib(end.hwm_kb), end.hwm_kb,
             end.cpu_s - start[i].cpu_s, cpu, polls, polls > 0 ? 1000 * poll_sum / polls : 0.0,
             daemons[i]->metric("etcd_defragd_lock_held"),
             daemons[i]->running() ? "running" : "NOT RUNNING"));
    say(
        strf("          of which RssAnon (heap, stacks) %.1f MiB, RssFile (binary and shared "
             "libraries) %.1f MiB; Pss %.1f MiB; %d threads",
             mib(end.anon_kb), mib(end.file_kb), mib(pss_kb(pids[i])), end.threads));
    if (i == 0) {
      std::string top = "          largest resident mappings:";
      const auto maps = rss_by_mapping(pids[i]);
      for (std::size_t k = 0; k < std::min<std::size_t>(8, maps.size()); ++k) {
        top += strf(" %s %.1f MiB;", std::filesystem::path(maps[k].second).filename().c_str(),
                    mib(maps[k].first));
      }
      say(top);
    }
    max_rss = std::max(max_rss, end.rss_kb);
    max_hwm = std::max(max_hwm, end.hwm_kb);
    max_cpu = std::max(max_cpu, cpu);
  }
  const double limit_kb = 20e6 / 1024;  // 20 MB = 20,000,000 bytes
  summary.push_back(
      {"idle VmRSS at end (max of 3 daemons)",
       strf("%.1f MiB (%.1f MB)", mib(max_rss), static_cast<double>(max_rss) * 1.024e-3), "< 20 MB",
       met(static_cast<double>(max_rss) < limit_kb)});
  summary.push_back(
      {"idle peak VmHWM (max of 3 daemons)",
       strf("%.1f MiB (%.1f MB)", mib(max_hwm), static_cast<double>(max_hwm) * 1.024e-3), "< 20 MB",
       met(static_cast<double>(max_hwm) < limit_kb)});
  summary.push_back({strf("idle CPU over %.0f s (max of 3)", o.idle_seconds),
                     strf("%.3f %% of one core", max_cpu), "< 0.5 %", met(max_cpu < 0.5)});
}

void section_metrics(const Options& o, const Daemons& daemons, std::vector<SummaryRow>& summary) {
  say("");
  const DaemonProcess& d = *daemons.front();
  say(strf("== 3. GET /metrics of daemon 0 (port %d) ==", d.port()));
  const pid_t pid = daemon_pid(d);
  if (pid == 0) throw std::runtime_error("no process for " + d.config_path());
  const ProcSample before = sample_proc(pid);
  const double period = 1.0 / o.metrics_rate;
  const auto count = static_cast<std::size_t>(o.metrics_seconds * o.metrics_rate);
  std::vector<double> service_ms, scheduled_ms;  // from the send / from the planned send time
  std::size_t errors = 0, late = 0, body_bytes = 0;
  std::string first_error;
  double elapsed = 0;
  std::thread client([&] {
    HttpClient http("127.0.0.1", d.port());
    service_ms.reserve(count);
    scheduled_ms.reserve(count);
    const auto t0 = SteadyClock::now();
    for (std::size_t i = 0; i < count; ++i) {
      const auto planned = t0 + std::chrono::duration_cast<SteadyClock::duration>(
                                    std::chrono::duration<double>(period * static_cast<double>(i)));
      std::this_thread::sleep_until(planned);
      const auto sent = SteadyClock::now();
      if (sent - planned > std::chrono::milliseconds(1)) ++late;
      try {
        const auto r = http.request("GET", "/metrics");
        const auto done = SteadyClock::now();
        if (r.status != 200) {
          ++errors;
          if (first_error.empty()) first_error = "HTTP " + std::to_string(r.status);
          continue;
        }
        body_bytes = r.body.size();
        service_ms.push_back(std::chrono::duration<double, std::milli>(done - sent).count());
        scheduled_ms.push_back(std::chrono::duration<double, std::milli>(done - planned).count());
      } catch (const std::exception& e) {
        ++errors;
        if (first_error.empty()) first_error = e.what();
      }
    }
    elapsed = seconds_since(t0);
  });
  client.join();
  const double p50 = percentile(service_ms, 50), p90 = percentile(service_ms, 90),
               p99 = percentile(service_ms, 99), p999 = percentile(service_ms, 99.9),
               mx = percentile(service_ms, 100);
  const std::string error_note = first_error.empty() ? "" : " (first: " + first_error + ")";
  say(
      strf("paced client (one keep-alive HTTP/1.1 connection, a GET every %.1f ms for %.0f s, "
           "latency from the send to the last byte): %zu ok, %zu errors%s, achieved %.1f "
           "requests/s, body %zu bytes, %zu sends > 1 ms late",
           1000 * period, o.metrics_seconds, service_ms.size(), errors, error_note.c_str(),
           static_cast<double>(service_ms.size() + errors) / elapsed, body_bytes, late));
  say(strf("  latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f", p50, p90, p99, p999,
           mx));
  say(strf(
      "  from the planned send time (counts queueing behind a slow answer): p50 %.3f  p99 "
      "%.3f  max %.3f",
      percentile(scheduled_ms, 50), percentile(scheduled_ms, 99), percentile(scheduled_ms, 100)));
  summary.push_back({strf("/metrics p50 / p99 at %.0f req/s", o.metrics_rate),
                     strf("%.2f / %.2f ms", p50, p99), "p99 < 5 ms",
                     met(errors == 0 && p99 < 5.0)});

  // Saturation, for context: wrk is closed-loop, it sends as fast as answers come back.
  const std::string url = "http://127.0.0.1:" + std::to_string(d.port()) + "/metrics";
  const auto w = edd::test::run_command(
      {"wrk", "-t1", "-c2", strf("-d%.0fs", o.wrk_seconds), "--latency", url},
      std::chrono::seconds(static_cast<long>(o.wrk_seconds) + 60));
  if (w.exit_code != 0) {
    say("wrk failed (exit " + std::to_string(w.exit_code) + "): " + w.err);
    summary.push_back({"/metrics saturation (wrk -t1 -c2)", "wrk failed", "context", ""});
  } else {
    say(strf("wrk -t1 -c2 -d%.0fs --latency (saturation, closed loop):", o.wrk_seconds));
    std::istringstream in(w.out);
    std::string rps = "?", w50 = "?", w99 = "?";
    for (std::string line; std::getline(in, line);) {
      say("  | " + line);
      std::istringstream f(line);
      std::string a, b;
      f >> a >> b;
      if (a == "Requests/sec:") rps = b;
      if (a == "50%") w50 = b;
      if (a == "99%") w99 = b;
    }
    summary.push_back({"/metrics saturation (wrk -t1 -c2)",
                       rps + " req/s, p50 " + w50 + ", p99 " + w99, "context", ""});
  }
  const ProcSample after = sample_proc(pid);
  say(strf("daemon 0 memory: VmRSS %.1f MiB before, %.1f MiB after; VmHWM %.1f MiB after",
           mib(before.rss_kb), mib(after.rss_kb), mib(after.hwm_kb)));
  summary.push_back({"VmRSS / VmHWM after the /metrics load",
                     strf("%.1f / %.1f MiB", mib(after.rss_kb), mib(after.hwm_kb)), "< 20 MB",
                     met(static_cast<double>(after.hwm_kb) < 20e6 / 1024)});
}

// The number of polls the daemon has finished (its poll-duration histogram's count).
double polls_done(HttpClient& http) {
  const auto r = http.request("GET", "/metrics");
  return metric_sum(r.body, "etcd_defragd_poll_duration_seconds_count");
}

void section_rule(const Options& o, EtcdCluster& cluster, Daemons& daemons, std::mt19937& rng,
                  std::vector<SummaryRow>& summary) {
  say("");
  say(strf("== 4. rule turns true -> run started (poll %ds, min_interval 0s) ==", o.poll_seconds));
  say("each rep: rule \"dbSize > T\" with T = the largest member's dbSize + 256 KiB (SIGHUP), "
      "then one 1 MiB put; \"true\" = the first status (polled every 10 ms on every member) "
      "showing dbSize > T; \"started\" = the daemon's \"starting a run\" log line. Random reps "
      "put after a random wait in [0, poll); worst-phase reps put as soon as the actor's "
      "/metrics shows a finished poll (the rule turns true just after its statuses were read)");
  for (auto& d : daemons) reload_policy(*d, kNeverRule, "0s");
  std::vector<std::unique_ptr<Gateway>> status;
  for (int i = 0; i < cluster.size(); ++i)
    status.push_back(std::make_unique<Gateway>(cluster.client_endpoint(i)));
  Gateway writer(cluster.client_endpoint(0));
  const std::string value_b64 = base64_encode(std::string(1024 * 1024, 'r'));
  std::vector<double> random_lat, worst_lat, to_defrag;
  int random_ok = 0, worst_ok = 0;
  const double limit = o.poll_seconds + 0.1;
  for (int rep = 1; rep <= o.repeats + o.worst_repeats; ++rep) {
    const bool worst = rep > o.repeats;
    std::int64_t max_size = 0;
    for (auto& g : status) max_size = std::max(max_size, g->db_size());
    const std::int64_t threshold = max_size + 256 * 1024;
    const std::string rule = "dbSize > " + std::to_string(threshold);
    for (auto& d : daemons) reload_policy(*d, rule, "0s");
    if (!worst) {
      sleep_s(std::uniform_real_distribution<double>(0, o.poll_seconds)(rng));
    } else {
      const int holder = lock_holder(daemons, std::chrono::seconds(30));
      HttpClient http("127.0.0.1", daemons[static_cast<std::size_t>(std::max(holder, 0))]->port());
      const double before = polls_done(http);
      const auto t0 = SteadyClock::now();
      while (polls_done(http) == before && seconds_since(t0) < 2.0 * o.poll_seconds + 2) {
        sleep_s(0.005);
      }
    }

    std::atomic<bool> stop{false};
    std::atomic<double> true_at{0};
    std::thread watcher([&] {
      while (!stop && true_at == 0) {
        for (auto& g : status) {
          try {
            if (g->db_size() > threshold) {
              true_at = wall_now_s();
              break;
            }
          } catch (const std::exception&) {
          }
        }
        sleep_s(0.01);
      }
    });
    const double sent = wall_now_s();
    const auto reply = writer.put("/bench/rule-key", value_b64);
    const double acked = wall_now_s();
    std::vector<double> starts;
    int actor = -1;
    edd::test::eventually(std::chrono::seconds(3 * o.poll_seconds + 5), [&] {
      for (std::size_t i = 0; i < daemons.size(); ++i) {
        starts = log_times(*daemons[i], "starting a run (rule)", sent);
        if (!starts.empty()) {
          actor = static_cast<int>(i);
          return true;
        }
      }
      return false;
    });
    stop = true;
    watcher.join();
    // Never again until the next rep; then let this run finish.
    for (auto& d : daemons) reload_policy(*d, kNeverRule, "0s");
    const char* kind = worst ? "worst-phase" : "random";
    if (reply.status != 200 || actor < 0 || true_at == 0) {
      say(strf("rep %d (%s): FAILED: put HTTP %d, rule true seen: %s, run started: %s", rep, kind,
               reply.status, true_at == 0 ? "no" : "yes", actor < 0 ? "no" : "yes"));
      continue;
    }
    const double start = starts.front();
    const auto& a = *daemons[static_cast<std::size_t>(actor)];
    edd::test::eventually(std::chrono::seconds(60),
                          [&] { return !log_times(a, "run finished (", start).empty(); });
    double first_defrag = 0;
    for (const auto& e : cluster.defrag_events()) {
      if (e.ts >= start - 0.002 && e.msg == "starting defragment") {
        first_defrag = e.ts;
        break;
      }
    }
    const double lat = start - true_at;
    (worst ? worst_lat : random_lat).push_back(lat);
    ++(worst ? worst_ok : random_ok);
    if (first_defrag != 0) to_defrag.push_back(first_defrag - true_at);
    say(
        strf("rep %d (%s): T=%lld; put acked %.3f s after the send, status true %.3f s after "
             "the send; run started %.3f s after true (%s), first \"starting defragment\" %.3f s "
             "after true; actor daemon %d",
             rep, kind, static_cast<long long>(threshold), acked - sent, true_at - sent, lat,
             met(lat <= limit).c_str(), first_defrag != 0 ? first_defrag - true_at : -1.0, actor));
  }
  auto verdict = [&](const std::vector<double>& lat, int ok, int wanted) {
    bool all = ok == wanted;
    for (double l : lat) all = all && l <= limit;
    return met(all) + strf(" (%d/%d reps)", ok, wanted);
  };
  say(
      strf("rule true -> run started: random phase over %zu reps %s; worst phase over %zu reps "
           "%s (min/median/max); -> first defrag, all reps: %s",
           random_lat.size(), mmm(min_med_max(random_lat), "s").c_str(), worst_lat.size(),
           mmm(min_med_max(worst_lat), "s").c_str(), mmm(min_med_max(to_defrag), "s").c_str()));
  summary.push_back({"rule true -> run, random phase", mmm(min_med_max(random_lat), "s"),
                     strf("<= %.1f s, each rep", limit),
                     verdict(random_lat, random_ok, o.repeats)});
  if (o.worst_repeats > 0) {
    summary.push_back({"rule true -> run, worst phase", mmm(min_med_max(worst_lat), "s"),
                       strf("<= %.1f s, each rep", limit),
                       verdict(worst_lat, worst_ok, o.worst_repeats)});
  }
  summary.push_back(
      {"rule true -> first defrag, all reps", mmm(min_med_max(to_defrag), "s"), "context", ""});
}

// This run's directory: the harness's own (edd-cluster-*) are for tests; ours is named for this
// benchmark and removed at the end unless --keep-dir.
class RunDir {
 public:
  explicit RunDir(bool keep) : keep_(keep), path_(edd::test::make_temp_dir("edd-daemon-bench")) {}
  ~RunDir() {
    if (keep_) {
      std::cerr << "edd_daemon_bench: kept " << path_ << "\n";
      return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  bool keep_;
  std::string path_;
};

int run(Options o) {
  const RunDir dir(o.keep_dir);  // outlives every cluster below
  o.base_dir = dir.path();
  const auto has = [&](char c) { return o.sections.find(c) != std::string::npos; };
  std::mt19937 rng(o.seed != 0 ? o.seed : std::random_device{}());
  const std::string load_start = loadavg();
  say(strf("edd_daemon_bench: %s; %u cores; load average at start: %s", EDD_BINARY,
           std::thread::hardware_concurrency(), load_start.c_str()));
  const auto t0 = SteadyClock::now();
  std::vector<SummaryRow> summary;
  if (has('1')) section_nospace(o, rng, summary);
  if (has('2') || has('3') || has('4')) {
    ClusterOptions co;
    co.name = "idle";
    co.base_dir = o.base_dir + "/idle";
    auto cluster = EtcdCluster::start(co);
    DaemonSettings s;
    s.poll_interval = std::to_string(o.poll_seconds) + "s";
    s.rule = kDefaultRule;
    s.ttl = "60s";
    auto daemons = start_daemons(*cluster, s);
    if (has('2')) section_idle(o, daemons, summary);
    if (has('3')) section_metrics(o, daemons, summary);
    if (has('4')) section_rule(o, *cluster, daemons, rng, summary);
  }
  const std::string load_end = loadavg();
  say("");
  say("== summary ==");
  say(strf("%-40s %-34s %-30s %s", "figure", "measured", "target", "verdict"));
  for (const auto& r : summary) {
    say(strf("%-40s %-34s %-30s %s", r.figure.c_str(), r.measured.c_str(), r.target.c_str(),
             r.verdict.c_str()));
  }
  say(strf("load average: %s at start, %s at the end; %.0f s in all", load_start.c_str(),
           load_end.c_str(), seconds_since(t0)));
  return 0;
}

}  // namespace
}  // namespace edd::bench

int main(int argc, char** argv) {
  edd::bench::Options o;
  CLI::App app{
      "edd_daemon_bench: etcd-defragd run's figures (NOSPACE recovery, idle RSS/CPU, /metrics "
      "latency, rule -> run) on real etcd clusters. Prints figures, asserts nothing."};
  app.add_option("--sections", o.sections, "Which sections to run: any of 1,2,3,4")
      ->capture_default_str();
  app.add_option("--poll-seconds", o.poll_seconds, "The daemons' poll_interval")
      ->capture_default_str()
      ->check(CLI::Range(1, 60));
  app.add_option("--repeats", o.repeats, "Repetitions of sections 1 and 4")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--worst-repeats", o.worst_repeats,
                 "Section 4's extra reps with the rule turned true just after a poll")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  app.add_option("--idle-seconds", o.idle_seconds, "Length of the idle measurement (section 2)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--metrics-seconds", o.metrics_seconds, "Length of the paced /metrics client")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--metrics-rate", o.metrics_rate, "Requests per second of the paced client")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 10000.0));
  app.add_option("--wrk-seconds", o.wrk_seconds, "Length of wrk's saturation run")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 600.0));
  app.add_option("--seed", o.seed, "Random seed (0: random)")->capture_default_str();
  app.add_flag("--keep-dir", o.keep_dir,
               "Keep the clusters' and daemons' directories (logs, configs) at the end");
  CLI11_PARSE(app, argc, argv);
  try {
    return edd::bench::run(o);
  } catch (const std::exception& e) {
    std::cerr << "edd_daemon_bench: " << e.what() << "\n";
    return 1;
  }
}
