// A same-host slowloris for tests and benchmarks: hundreds of connections that never finish a
// request (or a TLS handshake), reopened as soon as the server closes them. Only 127.0.0.0/8.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace edd::test {

// Half a request head (a slowloris on plain HTTP) and half a TLS ClientHello (on HTTPS).
inline const std::string kHalfRequestHead = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
inline const std::string kHalfClientHello("\x16\x03\x01\x00\xf1\x01", 6);

// `loopback` slots from 127.0.0.1 (where Prometheus on the same host comes from too), then
// `per_other` from each of 127.0.0.2 .. 127.0.0.(1 + others).
inline std::vector<std::string> attack_sources(int loopback, int others, int per_other) {
  std::vector<std::string> sources(static_cast<std::size_t>(loopback), "127.0.0.1");
  for (int s = 2; s < 2 + others; ++s) {
    for (int i = 0; i < per_other; ++i) sources.push_back("127.0.0." + std::to_string(s));
  }
  return sources;
}

// VmRSS of a process in KiB; -1 when it is gone.
inline long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Connections that send `first_bytes` and then nothing (a slowloris), held open to one loopback
// port from the given source addresses by a thread that reopens every one the daemon closes,
// 5 times a second, until stop() or `max_duration`.
class SlowClients {
 public:
  SlowClients(int port, std::string first_bytes, const std::vector<std::string>& sources,
              std::chrono::milliseconds max_duration)
      : port_(port), first_bytes_(std::move(first_bytes)), max_duration_(max_duration) {
    for (const auto& source : sources) slots_.push_back({source, -1});
    thread_ = std::thread([this] { run(); });
  }
  ~SlowClients() { stop(); }
  SlowClients(const SlowClients&) = delete;
  SlowClients& operator=(const SlowClients&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto& s : slots_) close_slot(s);
  }
  std::size_t slots() const { return slots_.size(); }
  std::size_t opened() const { return opened_; }
  std::size_t closed_by_daemon() const { return closed_; }

 private:
  struct Slot {
    std::string source;
    int fd;
  };

  void run() {
    // Bounded even if the test forgets to stop it.
    const auto deadline = std::chrono::steady_clock::now() + max_duration_;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      for (auto& s : slots_) {
        if (s.fd < 0) open_slot(s);
      }
      reap_closed();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  void open_slot(Slot& s) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    const timeval connect_timeout{0, 200'000};  // a full backlog must not stall the loop
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &connect_timeout, sizeof connect_timeout);
    sockaddr_in from{}, to{};
    from.sin_family = to.sin_family = AF_INET;
    ::inet_pton(AF_INET, s.source.c_str(), &from.sin_addr);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons(static_cast<std::uint16_t>(port_));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd);
      return;
    }
    if (!first_bytes_.empty()) ::send(fd, first_bytes_.data(), first_bytes_.size(), MSG_NOSIGNAL);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    s.fd = fd;
    ++opened_;
  }

  // A slot whose socket reads EOF or a reset was closed by the daemon.
  void reap_closed() {
    std::vector<pollfd> fds;
    std::vector<Slot*> owners;
    for (auto& s : slots_) {
      if (s.fd < 0) continue;
      fds.push_back({s.fd, POLLIN, 0});
      owners.push_back(&s);
    }
    if (fds.empty() || ::poll(fds.data(), fds.size(), 0) <= 0) return;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[256];
      if (::recv(fds[i].fd, buf, sizeof buf, MSG_DONTWAIT) > 0) continue;  // not closed yet
      close_slot(*owners[i]);
      ++closed_;
    }
  }

  static void close_slot(Slot& s) {
    if (s.fd >= 0) ::close(s.fd);
    s.fd = -1;
  }

  int port_;
  std::string first_bytes_;
  std::chrono::milliseconds max_duration_;
  std::vector<Slot> slots_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> opened_{0};
  std::atomic<std::size_t> closed_{0};
  std::thread thread_;
};

}  // namespace edd::test
