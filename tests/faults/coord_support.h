// Shared pieces of the coordination fault tests (who acts when daemons die, partitions, NOSPACE):
// the data check over etcdctl, reading the daemons' text logs, a log watcher that fires the
// instant a line appears, to kill a daemon at a precise step, and TCP forwarders into a network
// namespace for the write load. Header-only; the watcher and the forwarder own threads,
// everything else is free functions without shared state.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness/etcd_cluster.h"
#include "harness/process.h"
#include "support/clocks.h"
#include "support/data_digest.h"
#include "support/files.h"

namespace edd::test::coord {

using namespace std::chrono_literals;

// The daemons' own keys (the lock under /etcd-defragd/lock/, the last run at
// /etcd-defragd/last-run) and the write load's (bench::PutLoad's /load/m<i>/t<j>/<n>) change by
// design during every test: the data check covers all others.
inline constexpr std::string_view kDaemonPrefix = "/etcd-defragd/";
inline constexpr std::string_view kLoadPrefix = "/load/";

// etcdctl with the test's endpoints; endpoints "" means every member.
using Etcdctl = std::function<CommandResult(const std::vector<std::string>& args,
                                            const std::string& endpoints)>;

inline Etcdctl etcdctl_of(const EtcdCluster& cluster) {
  return [&cluster](const std::vector<std::string>& args, const std::string& endpoints) {
    return cluster.etcdctl(args, endpoints);
  };
}

// The digest of every key and value outside kDaemonPrefix and kLoadPrefix, from `etcdctl get ""
// --prefix -w json` (as the harness's digest() reads it). endpoint "" reads linearizably through
// the cluster, one endpoint its own copy.
inline DataDigest user_digest(const Etcdctl& etcdctl, const std::string& endpoint = "") {
  std::vector<std::string> args{"get", "", "--prefix", "-w", "json"};
  if (!endpoint.empty()) args.push_back("--consistency=s");
  const CommandResult r = etcdctl(args, endpoint);
  if (r.exit_code != 0) throw std::runtime_error("etcdctl get failed: " + r.err);
  return digest_etcdctl_json(r.out, [](std::string_view key) {
    return key.starts_with(kDaemonPrefix) || key.starts_with(kLoadPrefix);
  });
}

// True once `etcdctl endpoint hashkv --cluster` at one revision (the highest any member reports)
// gives the same hash and compact revision on every one of `members` members. *last gets the
// last answer, for the failure message. Bounded by timeout.
inline bool hashkv_agrees(const Etcdctl& etcdctl, int members, std::string* last,
                          std::chrono::milliseconds timeout = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const CommandResult st = etcdctl({"endpoint", "status", "--cluster", "-w", "json"}, "");
    std::int64_t revision = 0;
    if (st.exit_code == 0) {
      const boost::json::value statuses = boost::json::parse(st.out);
      for (const auto& e : statuses.as_array()) {
        revision = std::max(revision,
                            e.at("Status").at("header").at("revision").to_number<std::int64_t>());
      }
    }
    const CommandResult r = etcdctl(
        {"endpoint", "hashkv", "--cluster", "--rev=" + std::to_string(revision), "-w", "json"}, "");
    *last = r.out + r.err;
    if (revision > 0 && r.exit_code == 0) {
      const auto hashes = boost::json::parse(r.out).as_array();
      bool same = static_cast<int>(hashes.size()) == members;
      for (const auto& h : hashes) {
        const auto& first = hashes.front().at("HashKV");
        same = same && h.at("HashKV").at("hash") == first.at("hash") &&
               h.at("HashKV").at("compact_revision") == first.at("compact_revision");
      }
      if (same) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(300ms);
  }
}

inline int count_lines(const std::string& text, std::string_view needle) {
  int n = 0;
  for (const auto& line : lines_of(text)) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

// The daemon logs `Defragmenting endpoint "X"` before the call and `Defragmenting endpoint "X"
// took 95ms` after it.
inline int defrags_started(const std::string& daemon_log) {
  int n = 0;
  for (const auto& line : lines_of(daemon_log)) {
    n += line.find("Defragmenting endpoint \"") != std::string::npos &&
                 line.find("\" took ") == std::string::npos
             ? 1
             : 0;
  }
  return n;
}

inline int defrags_done(const std::string& daemon_log) {
  int n = 0;
  for (const auto& line : lines_of(daemon_log)) {
    n += line.find("Defragmenting endpoint \"") != std::string::npos &&
                 line.find("\" took ") != std::string::npos
             ? 1
             : 0;
  }
  return n;
}

// The outcome of each "run finished (<trigger>): ..." line of a daemon's log, in order:
// "success", "aborted, nothing changed" (the run stopped before its first change), or the line
// itself without its timestamp (cut to 200 characters) for anything else — so a failed check on
// it shows what happened.
inline std::vector<std::string> run_outcomes(const std::string& daemon_log,
                                             std::string_view trigger) {
  const std::string marker = "run finished (" + std::string(trigger) + "): ";
  std::vector<std::string> outcomes;
  for (const auto& line : lines_of(daemon_log)) {
    const auto at = line.find(marker);
    if (at == std::string::npos) continue;
    const std::string rest = line.substr(at + marker.size());
    if (rest.starts_with("success")) {
      outcomes.push_back("success");
    } else if (rest.starts_with("aborted") &&
               rest.find("nothing was changed") != std::string::npos) {
      outcomes.push_back("aborted, nothing changed");
    } else {
      outcomes.push_back(line.substr(at, 200));
    }
  }
  return outcomes;
}

// The time of the first line containing needle, if any.
inline std::optional<double> first_line_time(const std::string& daemon_log,
                                             std::string_view needle) {
  for (const auto& line : lines_of(daemon_log)) {
    if (line.find(needle) != std::string::npos) return daemon_log_time(line);
  }
  return std::nullopt;
}

// The members in the order their defrags finished, or a description of the first two defrags
// that overlapped (every "starting defragment" must be followed by the same member's
// "finished defragment" before anything else starts).
inline std::string overlap_problem(const std::vector<DefragEvent>& events,
                                   std::vector<int>* order) {
  order->clear();
  for (std::size_t i = 0; i < events.size(); i += 2) {
    const auto& start = events[i];
    if (start.msg != "starting defragment") {
      return "event " + std::to_string(i) + ": member " + std::to_string(start.member) + " " +
             start.msg + " without a start";
    }
    if (i + 1 >= events.size()) return "member " + std::to_string(start.member) + " never finished";
    const auto& end = events[i + 1];
    if (end.msg != "finished defragment" || end.member != start.member) {
      return "member " + std::to_string(end.member) + " " + end.msg + " while member " +
             std::to_string(start.member) + " was being defragmented";
    }
    order->push_back(start.member);
  }
  return {};
}

// Watches files that others append to (daemon and etcd logs) and runs `action` once, from its
// own thread, the moment `ready(texts)` holds — inotify wakes it within a millisecond or so of
// the write, so a kill lands between two steps of the daemon, not a poll interval later.
class LogTrigger {
 public:
  using Ready = std::function<bool(const std::vector<std::string>& texts)>;

  LogTrigger(std::vector<std::string> paths, Ready ready, std::function<void()> action,
             std::chrono::milliseconds timeout)
      : paths_(std::move(paths)),
        ready_(std::move(ready)),
        action_(std::move(action)),
        deadline_(std::chrono::steady_clock::now() + timeout),
        thread_([this] { run(); }) {}
  ~LogTrigger() {
    stop_ = true;
    thread_.join();
  }
  LogTrigger(const LogTrigger&) = delete;
  LogTrigger& operator=(const LogTrigger&) = delete;

  bool fired() const { return fired_; }
  double fired_at_s() const { return fired_at_s_; }  // wall clock, like the logs
  // Blocks until the action ran or the watcher gave up; true if it ran.
  bool wait() {
    thread_.join();
    thread_ = std::thread([] {});
    return fired_;
  }

 private:
  void run() {
    const int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    for (const auto& p : paths_) {
      if (fd >= 0) ::inotify_add_watch(fd, p.c_str(), IN_MODIFY);
    }
    std::vector<std::string> texts(paths_.size());
    std::vector<int> files;
    for (const auto& p : paths_) files.push_back(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    while (!stop_ && std::chrono::steady_clock::now() < deadline_) {
      for (std::size_t i = 0; i < files.size(); ++i) {
        char buffer[65536];
        ssize_t n = 0;
        while (files[i] >= 0 && (n = ::read(files[i], buffer, sizeof buffer)) > 0) {
          texts[i].append(buffer, static_cast<std::size_t>(n));
        }
      }
      if (ready_(texts)) {
        action_();
        fired_at_s_ = wall_now_s();
        fired_ = true;
        break;
      }
      pollfd p{fd, POLLIN, 0};
      ::poll(&p, fd >= 0 ? 1 : 0, 20);  // 20 ms: also the fallback when inotify is missing
      char events[4096];
      while (fd >= 0 && ::read(fd, events, sizeof events) > 0) {
      }
    }
    for (int f : files) {
      if (f >= 0) ::close(f);
    }
    if (fd >= 0) ::close(fd);
  }

  std::vector<std::string> paths_;
  Ready ready_;
  std::function<void()> action_;
  std::chrono::steady_clock::time_point deadline_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> fired_{false};
  std::atomic<double> fired_at_s_{0};
  std::thread thread_;
};

// TCP forwarders from the test's own network namespace into a named one (`ip netns add`'s
// /run/netns/<name>): target k ("10.200.0.1:2379") is reached through local_endpoint(k)
// ("127.0.0.1:<port>"). gRPC opens its sockets on threads of its own, so a gRPC client cannot be
// pointed into a namespace; here the listening sockets are made in the test's namespace, and one
// thread that entered the target namespace (setns(2) moves only the calling thread) makes each
// upstream socket, which stays in that namespace whichever thread then uses it. One thread per
// connection copies bytes both ways; an upstream not connected within 5 s closes the client's
// connection, as a refused or lost connection would. Everything stops in the destructor.
class NetnsForwarder {
 public:
  NetnsForwarder(const std::string& netns, const std::vector<std::string>& targets) {
    try {
      for (const auto& t : targets) {
        const auto colon = t.rfind(':');
        sockaddr_in a{};
        a.sin_family = AF_INET;
        if (colon == std::string::npos ||
            ::inet_pton(AF_INET, t.substr(0, colon).c_str(), &a.sin_addr) != 1) {
          throw std::invalid_argument("NetnsForwarder: not an IPv4 host:port: " + t);
        }
        a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(t.substr(colon + 1))));
        targets_.push_back(a);
        listeners_.push_back(listen_on_loopback());
      }
      netns_fd_ = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
      if (netns_fd_ < 0) fail("open /run/netns/" + netns);
      auto entered = entered_.get_future();
      acceptor_ = std::thread([this] {
        if (::setns(netns_fd_, CLONE_NEWNET) != 0) {
          entered_.set_value(std::string("setns: ") + std::strerror(errno));
          return;
        }
        entered_.set_value("");
        accept_loop();
      });
      if (const std::string error = entered.get(); !error.empty()) {
        throw std::runtime_error("NetnsForwarder: " + error);
      }
    } catch (...) {
      shut_down();
      throw;
    }
  }
  ~NetnsForwarder() { shut_down(); }
  NetnsForwarder(const NetnsForwarder&) = delete;
  NetnsForwarder& operator=(const NetnsForwarder&) = delete;

  std::string local_endpoint(std::size_t k) const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(listeners_.at(k), reinterpret_cast<sockaddr*>(&a), &len);
    return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }

 private:
  [[noreturn]] static void fail(const std::string& what) {
    throw std::runtime_error("NetnsForwarder: " + what + ": " + std::strerror(errno));
  }

  static int listen_on_loopback() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
      ::close(fd);
      fail("bind/listen on 127.0.0.1");
    }
    return fd;
  }

  // On the thread inside the target namespace: every socket() here is made there.
  void accept_loop() {
    std::vector<pollfd> fds;
    for (int l : listeners_) fds.push_back({l, POLLIN, 0});
    while (!stop_) {
      if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
      for (std::size_t k = 0; k < fds.size(); ++k) {
        if ((fds[k].revents & POLLIN) == 0) continue;
        const int client = ::accept4(fds[k].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        std::lock_guard lock(mutex_);
        if (upstream < 0) {
          ::close(client);
          continue;
        }
        open_fds_.insert(open_fds_.end(), {client, upstream});
        relays_.emplace_back(
            [this, client, upstream, target = targets_[k]] { relay(client, upstream, target); });
      }
    }
  }

  // Sends all of data, or returns false (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
  static bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }

  void relay(int client, int upstream, sockaddr_in target) {
    const int rc = ::connect(upstream, reinterpret_cast<const sockaddr*>(&target), sizeof target);
    bool connected = rc == 0;
    if (rc != 0 && errno == EINPROGRESS) {
      for (int waited_ms = 0; !stop_ && waited_ms < 5000; waited_ms += 100) {
        pollfd p{upstream, POLLOUT, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(upstream, SOL_SOCKET, SO_ERROR, &error, &len);
        connected = error == 0;
        break;
      }
    }
    if (connected) {
      ::fcntl(upstream, F_SETFL, ::fcntl(upstream, F_GETFL) & ~O_NONBLOCK);
      const int ends[2] = {client, upstream};
      char buffer[65536];
      while (!stop_) {
        pollfd p[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
        if (::poll(p, 2, 100) < 0 && errno != EINTR) break;
        bool alive = true;
        for (int side = 0; side < 2 && alive; ++side) {
          if ((p[side].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
          const ssize_t n = ::recv(ends[side], buffer, sizeof buffer, 0);
          alive = n > 0 && send_all(ends[1 - side], buffer, static_cast<std::size_t>(n));
        }
        if (!alive) break;
      }
    }
    std::lock_guard lock(mutex_);
    for (int fd : {client, upstream}) {
      open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
      ::close(fd);
    }
  }

  void shut_down() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    {
      // Wakes a relay blocked in send() to an upstream that stopped reading (a partition).
      std::lock_guard lock(mutex_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : relays_) t.join();  // the acceptor has stopped: the list no longer grows
    relays_.clear();
    for (int fd : listeners_) ::close(fd);
    listeners_.clear();
    if (netns_fd_ >= 0) ::close(netns_fd_);
    netns_fd_ = -1;
  }

  std::vector<sockaddr_in> targets_;
  std::vector<int> listeners_;
  int netns_fd_ = -1;
  std::promise<std::string> entered_;  // the acceptor's setns(2): "" or why it failed
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> open_fds_;      // guarded by mutex_
  std::list<std::thread> relays_;  // appended by the acceptor under mutex_, joined after it ends
};

}  // namespace edd::test::coord
