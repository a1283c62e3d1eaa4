#include "load_generator.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "etcdserverpb/rpc.grpc.pb.h"

namespace edd::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kMaxErrorNotes = 200;  // the keep-alive probe's; PutLoad's is an option

std::string read_pem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(std::string("load generator: cannot open the ") + what + " file " +
                             path);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (text.empty()) {
    throw std::runtime_error(std::string("load generator: the ") + what + " file " + path +
                             " is empty");
  }
  return text;
}

// A channel of its own: with a local subchannel pool, gRPC does not share one TCP connection
// between channels to the same address, so each client thread has its own connection. The
// endpoint may carry an http:// or https:// scheme; https needs TLS files.
std::shared_ptr<grpc::Channel> own_channel(std::string endpoint, const TlsFiles& tls,
                                           std::chrono::milliseconds max_reconnect_backoff = {}) {
  const bool https = endpoint.starts_with("https://");
  if (https) {
    endpoint = endpoint.substr(8);
  } else if (endpoint.starts_with("http://")) {
    endpoint = endpoint.substr(7);
  }
  if (https && !tls.enabled()) {
    throw std::runtime_error("load generator: " + endpoint + " is https but no CA file was given");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls.enabled()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = read_pem(tls.ca_file, "CA");
    if (!tls.cert_file.empty()) {
      ssl.pem_cert_chain = read_pem(tls.cert_file, "client certificate");
      ssl.pem_private_key = read_pem(tls.key_file, "client key");
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (max_reconnect_backoff.count() > 0) {
    const int ms = static_cast<int>(max_reconnect_backoff.count());
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, ms);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(ms, 1000));
  }
  return grpc::CreateCustomChannel(endpoint, credentials, args);
}

std::string describe(const grpc::Status& status) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const auto code = static_cast<std::size_t>(status.error_code());
  const std::string name = code < std::size(kNames) ? kNames[code] : std::to_string(code);
  return name + ": " + status.error_message();
}

double ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

}  // namespace

struct PutLoad::Worker {
  int member = 0;
  int index = 0;  // among all workers
  std::string endpoint;
  std::shared_ptr<grpc::Channel> channel;
  std::thread thread;
  mutable std::mutex mutex;
  std::vector<Sample> samples;
  std::vector<ErrorNote> errors;
};

PutLoad::PutLoad(PutLoadOptions options) : options_(std::move(options)) {}

PutLoad::~PutLoad() { stop(); }

void PutLoad::start() {
  if (!workers_.empty()) throw std::logic_error("PutLoad::start called twice");
  for (std::size_t m = 0; m < options_.endpoints.size(); ++m) {
    for (int t = 0; t < options_.threads_per_member; ++t) {
      auto w = std::make_unique<Worker>();
      w->member = static_cast<int>(m);
      w->index = static_cast<int>(workers_.size());
      w->endpoint = options_.endpoints[m];
      w->channel = own_channel(w->endpoint, options_.tls, options_.max_reconnect_backoff);
      if (!w->channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(10))) {
        throw std::runtime_error("load generator: cannot connect to " + w->endpoint);
      }
      workers_.push_back(std::move(w));
    }
  }
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->thread = std::thread([this, worker] { run(*worker); });
  }
}

void PutLoad::stop() {
  stop_ = true;
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void PutLoad::run(Worker& worker) {
  auto stub = etcdserverpb::KV::NewStub(worker.channel);
  const auto interval =
      std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(
          options_.threads_per_member / options_.puts_per_second_per_member));
  // Spread the threads' phases over one interval so they do not fire together.
  auto next = SteadyClock::now() + interval * worker.index / static_cast<int>(workers_.size());
  const std::string prefix =
      "/load/m" + std::to_string(worker.member) + "/t" + std::to_string(worker.index) + "/";
  etcdserverpb::PutRequest request;
  request.set_value(std::string(options_.value_bytes, 'v'));
  for (std::uint64_t n = 0; !stop_; ++n) {
    std::this_thread::sleep_until(next);
    // Paced, not a closed loop: a stalled call does not cause a burst of catch-up calls after it.
    next = std::max(next + interval, SteadyClock::now());
    request.set_key(prefix +
                    std::to_string(n % static_cast<std::uint64_t>(options_.keys_per_thread)));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
    etcdserverpb::PutResponse response;
    const double start_s = wall_now_s();
    const auto t0 = SteadyClock::now();
    const grpc::Status status = stub->Put(&context, request, &response);
    const Sample sample{start_s, ms_since(t0), worker.member, status.ok()};
    std::lock_guard lock(worker.mutex);
    worker.samples.push_back(sample);
    if (!status.ok() && worker.errors.size() < options_.max_error_notes) {
      worker.errors.push_back({start_s, worker.member, describe(status)});
    }
  }
}

std::vector<Sample> PutLoad::samples() const {
  std::vector<Sample> all;
  for (const auto& w : workers_) {
    std::lock_guard lock(w->mutex);
    all.insert(all.end(), w->samples.begin(), w->samples.end());
  }
  return all;
}

std::vector<ErrorNote> PutLoad::errors() const {
  std::vector<ErrorNote> all;
  for (const auto& w : workers_) {
    std::lock_guard lock(w->mutex);
    all.insert(all.end(), w->errors.begin(), w->errors.end());
  }
  std::sort(all.begin(), all.end(),
            [](const ErrorNote& a, const ErrorNote& b) { return a.at_s < b.at_s; });
  return all;
}

KeepAliveProbe::KeepAliveProbe(std::string endpoint, int member, std::chrono::milliseconds interval,
                               std::int64_t ttl_s, TlsFiles tls)
    : endpoint_(std::move(endpoint)),
      member_(member),
      interval_(interval),
      ttl_s_(ttl_s),
      tls_(std::move(tls)) {}

KeepAliveProbe::~KeepAliveProbe() { stop(); }

void KeepAliveProbe::start() {
  if (thread_.joinable()) throw std::logic_error("KeepAliveProbe::start called twice");
  channel_ = own_channel(endpoint_, tls_);  // throws here, not in the thread, on a bad file
  thread_ = std::thread([this] { run(); });
}

void KeepAliveProbe::stop() {
  stop_ = true;
  {
    std::lock_guard lock(mutex_);
    if (stream_context_ != nullptr) stream_context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void KeepAliveProbe::record(Sample sample, std::string error) {
  std::lock_guard lock(mutex_);
  samples_.push_back(sample);
  if (!error.empty() && errors_.size() < kMaxErrorNotes) {
    errors_.push_back({sample.start_s, member_, std::move(error)});
  }
}

void KeepAliveProbe::run() {
  auto stub = etcdserverpb::Lease::NewStub(channel_);
  // Bounded by stop_: each pass either runs a stream until it breaks or waits before retrying.
  while (!stop_) {
    etcdserverpb::LeaseGrantRequest grant;
    grant.set_ttl(ttl_s_);
    etcdserverpb::LeaseGrantResponse granted;
    grpc::ClientContext grant_context;
    grant_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const double grant_start_s = wall_now_s();
    const auto grant_t0 = SteadyClock::now();
    if (auto status = stub->LeaseGrant(&grant_context, grant, &granted); !status.ok()) {
      record({grant_start_s, ms_since(grant_t0), member_, false}, "LeaseGrant " + describe(status));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    grpc::ClientContext context;
    {
      std::lock_guard lock(mutex_);
      if (stop_) break;
      stream_context_ = &context;
    }
    auto stream = stub->LeaseKeepAlive(&context);
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(granted.id());
    bool finished = false;
    auto next = SteadyClock::now();
    while (!stop_) {
      std::this_thread::sleep_until(next);
      next = std::max(next + interval_, SteadyClock::now());
      etcdserverpb::LeaseKeepAliveResponse response;
      const double start_s = wall_now_s();
      const auto t0 = SteadyClock::now();
      const bool ok = stream->Write(request) && stream->Read(&response);
      if (stop_) break;  // cancelled by stop(): not a failure
      if (!ok) {
        const grpc::Status status = stream->Finish();
        finished = true;
        record({start_s, ms_since(t0), member_, false}, "LeaseKeepAlive " + describe(status));
        break;
      }
      if (response.ttl() <= 0) {
        record({start_s, ms_since(t0), member_, false}, "LeaseKeepAlive: the lease expired");
        break;
      }
      record({start_s, ms_since(t0), member_, true}, "");
    }
    {
      std::lock_guard lock(mutex_);
      stream_context_ = nullptr;
    }
    if (!finished) {
      context.TryCancel();
      stream->Finish();
    }
    if (stop_) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::vector<Sample> KeepAliveProbe::samples() const {
  std::lock_guard lock(mutex_);
  return samples_;
}

std::vector<ErrorNote> KeepAliveProbe::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

}  // namespace edd::bench
