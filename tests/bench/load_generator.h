// The benchmark's clients: paced synchronous Puts, a few threads per member, each through its own
// gRPC channel to that member only; and a lease keep-alive stream through one member. Each
// records every request's start, latency and status in memory. Plaintext by default; TLS (server
// verified against a CA, optionally a client certificate) when TlsFiles are given. start/stop
// from one controlling thread; samples() and errors() may be called from any thread while the
// clients run.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "samples.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace edd::bench {

// TLS for the clients: empty ca_file means plaintext. The files are read once, when a channel is
// made (start()), so rewriting them afterwards does not affect a running load.
struct TlsFiles {
  std::string ca_file;    // PEM roots the server's certificate must chain to
  std::string cert_file;  // client certificate (PEM); empty: no client certificate
  std::string key_file;   // its private key (PEM)
  bool enabled() const { return !ca_file.empty(); }
};

struct PutLoadOptions {
  // One per member: "127.0.0.1:PORT", or with "http://" / "https://" (stripped; https requires
  // tls). Any gRPC target works too, e.g. "unix:/path".
  std::vector<std::string> endpoints;
  int threads_per_member = 2;
  double puts_per_second_per_member = 200;
  std::size_t value_bytes = 100;
  int keys_per_thread = 256;  // keys are reused, so the live data does not grow
  std::chrono::milliseconds call_timeout{15000};
  // gRPC's reconnect backoff grows to 120 s: a member down for a minute is then not tried again
  // for a while after it is back. 0 keeps gRPC's default.
  std::chrono::milliseconds max_reconnect_backoff{0};
  TlsFiles tls;                       // plaintext unless tls.ca_file is set
  std::size_t max_error_notes = 200;  // per thread; every failure is still a sample
};

class PutLoad {
 public:
  explicit PutLoad(PutLoadOptions options);
  ~PutLoad();  // stop()
  PutLoad(const PutLoad&) = delete;
  PutLoad& operator=(const PutLoad&) = delete;

  // Connects every channel (throws std::runtime_error naming the endpoint if one does not
  // connect within 10 s, or naming a TLS file that cannot be read), then starts the threads.
  void start();
  void stop();  // returns once every thread has finished its call in flight

  std::vector<Sample> samples() const;
  std::vector<ErrorNote> errors() const;

 private:
  struct Worker;
  void run(Worker& worker);

  PutLoadOptions options_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
};

// Grants a lease (TTL ttl_s) through one member and sends a LeaseKeepAlive on one bidi stream
// every interval, waiting for each answer (one in flight). A broken stream is recorded as a
// failure and replaced by a new lease and stream.
class KeepAliveProbe {
 public:
  KeepAliveProbe(std::string endpoint, int member, std::chrono::milliseconds interval,
                 std::int64_t ttl_s, TlsFiles tls = {});
  ~KeepAliveProbe();  // stop()
  KeepAliveProbe(const KeepAliveProbe&) = delete;
  KeepAliveProbe& operator=(const KeepAliveProbe&) = delete;

  void start();
  void stop();  // cancels the stream

  std::vector<Sample> samples() const;
  std::vector<ErrorNote> errors() const;

 private:
  void run();
  void record(Sample sample, std::string error);

  std::string endpoint_;
  int member_;
  std::chrono::milliseconds interval_;
  std::int64_t ttl_s_;
  TlsFiles tls_;
  std::shared_ptr<grpc::Channel> channel_;  // made by start(), used by run()
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  grpc::ClientContext* stream_context_ = nullptr;  // guarded by mutex_; owned by run()
  std::vector<Sample> samples_;
  std::vector<ErrorNote> errors_;
  std::thread thread_;
};

}  // namespace edd::bench
