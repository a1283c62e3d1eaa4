// The fault fixture, shared by the fault-matrix tests and the soak: the data check every test
// ends with (a digest of the keys over gRPC and etcd's HashKV), defrag intervals read from the
// members' logs with kills closing them, a constant Put load whose failures are sorted by cause,
// and the fault tests' `etcd-defragd run` (TLS files, short timeouts). Not thread-safe: one test
// thread uses them (the load's own threads live inside bench::PutLoad).
#pragma once

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/load_generator.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "harness/etcd_cluster.h"
#include "harness/process.h"
#include "support/clocks.h"
#include "support/cluster_checks.h"
#include "support/daemon_process.h"
#include "support/data_digest.h"
#include "support/edd_cli.h"
#include "support/files.h"

namespace edd::test::faults {

using namespace std::chrono_literals;

// The load generator writes under this prefix (bench::PutLoad's fixed key scheme) and the daemon
// keeps its lock and last-run record under the other: both change during a test by design, so
// the data check covers every key but these.
inline const std::vector<std::string> kVolatilePrefixes = {"/load/", "/etcd-defragd/"};

// A directory of the test's own for its cluster, removed at the end unless EDD_KEEP_TEST_DIRS is
// set: on a shared host a neighbour's clean-up of /tmp/edd-cluster-* once pulled a data dir from
// under a running member (its next defrag failed with ENOENT and etcd 3.4 died of it).
class ScratchDir {
 public:
  ScratchDir() : path_(make_temp_dir("edd-faults")) {}
  ~ScratchDir() {
    if (std::getenv("EDD_KEEP_TEST_DIRS") != nullptr) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Options for a cluster in this directory (declare the cluster after the ScratchDir).
  ClusterOptions cluster(Security security = Security::kPlain) const {
    ClusterOptions o = cluster_options(0, security);
    o.base_dir = path_;
    return o;
  }

 private:
  std::string path_;
};

// A gRPC channel to member i only: plaintext, or TLS with the cluster's own CA and client pair.
inline std::shared_ptr<grpc::Channel> member_channel(const EtcdCluster& cluster, int i) {
  std::string target = cluster.client_endpoint(i);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (target.starts_with("https://")) {
    target = target.substr(8);
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = read_file(cluster.ca_file());
    ssl.pem_cert_chain = read_file(cluster.client_cert_file());
    ssl.pem_private_key = read_file(cluster.client_key_file());
    creds = grpc::SslCredentials(ssl);
  } else {
    if (target.starts_with("http://")) target = target.substr(7);
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, creds, args);
}

// Writes count values of value_bytes under prefix (prefix + 6-digit index), from one thread per
// member so the three share the work; every value is different.
inline void seed_values(const EtcdCluster& cluster, const std::string& prefix, int count,
                        std::size_t value_bytes) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex error_mu;
  for (int m = 0; m < cluster.size(); ++m) {
    threads.emplace_back([&, m] {
      auto stub = etcdserverpb::KV::NewStub(member_channel(cluster, m));
      for (int n = m; n < count; n += cluster.size()) {
        char key[32];
        std::snprintf(key, sizeof key, "%06d", n);
        etcdserverpb::PutRequest req;
        req.set_key(prefix + key);
        std::string value(value_bytes, static_cast<char>('a' + n % 26));
        std::memcpy(value.data(), key, std::min(value.size(), std::strlen(key)));
        req.set_value(std::move(value));
        etcdserverpb::PutResponse resp;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + 30s);
        const grpc::Status s = stub->Put(&ctx, req, &resp);
        if (!s.ok()) {
          ++failures;
          std::lock_guard l(error_mu);
          if (first_error.empty()) first_error = req.key() + ": " + s.error_message();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO("seeding " << prefix << ": " << first_error);
  REQUIRE(failures == 0);
}

// Count and FNV-1a checksum of every key and value outside kVolatilePrefixes, read from member i
// (serializable: that member's own copy) or through member i linearizably, paged by key.
inline DataDigest data_digest(const EtcdCluster& cluster, int i, bool serializable) {
  auto stub = etcdserverpb::KV::NewStub(member_channel(cluster, i));
  DigestBuilder digest;
  std::string from(1, '\0');
  std::int64_t revision = 0;  // every page at the revision of the first
  while (true) {
    etcdserverpb::RangeRequest req;
    req.set_key(from);
    req.set_range_end(std::string(1, '\0'));  // to the end of the keyspace
    req.set_limit(64);
    req.set_serializable(serializable);
    req.set_revision(revision);
    etcdserverpb::RangeResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    const grpc::Status s = stub->Range(&ctx, req, &resp);
    if (!s.ok()) {
      FAIL("digest through " << cluster.client_endpoint(i) << ": " << s.error_message());
    }
    if (revision == 0) revision = resp.header().revision();
    for (const auto& kv : resp.kvs()) {
      bool skip = false;
      for (const auto& p : kVolatilePrefixes) skip = skip || kv.key().starts_with(p);
      if (!skip) digest.add(kv.key(), kv.value());
    }
    if (!resp.more() || resp.kvs().empty()) break;
    from = resp.kvs(resp.kvs_size() - 1).key() + std::string(1, '\0');
  }
  return digest.digest();
}

// The check every fault test ends with, once the load and the daemons have stopped: the same
// keys and values as before the fault, read linearizably and from each member's own copy, and
// etcd's HashKV equal on every member at one revision.
inline void check_data_intact(const EtcdCluster& cluster, const DataDigest& before) {
  INFO("data before: " << before.key_count << " keys, checksum " << before.checksum);
  const DataDigest now = data_digest(cluster, 0, false);
  CHECK(now == before);
  for (int i = 0; i < cluster.size(); ++i) {
    INFO("member " << i << "'s own copy");
    CHECK(eventually(30s, [&] { return data_digest(cluster, i, true) == before; }));
  }
  std::string last;
  const bool agreed = eventually(30s, [&] {
    const CommandResult r = cluster.etcdctl({"endpoint", "hashkv", "--cluster", "-w", "json"});
    last = r.out + r.err;
    if (r.exit_code != 0) return false;
    const boost::json::array hashes = parse_json(r.out).as_array();
    if (static_cast<int>(hashes.size()) != cluster.size()) return false;
    const auto& first = hashes[0].at("HashKV");
    for (const auto& h : hashes) {
      // Members not yet at the same revision hash different histories: ask again.
      if (h.at("HashKV").at("header").at("revision") != first.at("header").at("revision")) {
        return false;
      }
    }
    for (const auto& h : hashes) {
      if (h.at("HashKV").at("hash") != first.at("hash")) {
        FAIL("HashKV differs between members at one revision: " << r.out);
      }
    }
    return true;
  });
  INFO("etcdctl endpoint hashkv --cluster: " << last);
  CHECK(agreed);
}

// A defrag as etcd's logs tell it: from "starting defragment" to "finished defragment", or to the
// moment the test killed the member (finished = false).
struct DefragInterval {
  int member = -1;
  double begin_s = 0;
  double end_s = 0;
  bool finished = true;
};

struct Kill {
  int member = -1;
  double at_s = 0;  // bench::wall_now_s(), the clock of etcd's log timestamps
};

// Every defrag in the members' logs, in time order, checking that no two overlapped at any
// moment; a defrag interrupted by a kill ends at the kill. Fails the test on an overlap or on a
// defrag still open.
inline std::vector<DefragInterval> defrag_intervals(const EtcdCluster& cluster,
                                                    const std::vector<Kill>& kills = {}) {
  struct Item {
    double ts;
    int member;
    int kind;  // 0 finished, 1 killed, 2 starting: equal timestamps close before they open
  };
  std::vector<Item> items;
  for (const auto& e : cluster.defrag_events()) {
    items.push_back({e.ts, e.member, e.msg == "starting defragment" ? 2 : 0});
  }
  for (const auto& k : kills) items.push_back({k.at_s, k.member, 1});
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.kind < b.kind;
  });
  std::vector<DefragInterval> out;
  std::map<int, double> open;
  for (const auto& it : items) {
    if (it.kind == 2) {
      INFO("member " << it.member << " starts a defrag at " << std::fixed << it.ts);
      for (const auto& [m, since] : open) INFO("member " << m << " defragmenting since " << since);
      REQUIRE(open.empty());  // never two members at once, nor one twice
      open[it.member] = it.ts;
    } else if (it.kind == 0) {
      INFO("member " << it.member << " finishes a defrag it never started, at " << it.ts);
      REQUIRE(open.count(it.member) == 1);
      out.push_back({it.member, open[it.member], it.ts, true});
      open.erase(it.member);
    } else if (open.count(it.member) == 1) {
      out.push_back({it.member, open[it.member], it.ts, false});
      open.erase(it.member);
    }
  }
  INFO("a defrag never finished");
  REQUIRE(open.empty());
  return out;
}

inline std::vector<DefragInterval> started_after(const std::vector<DefragInterval>& all,
                                                 double t_s) {
  std::vector<DefragInterval> out;
  for (const auto& d : all) {
    if (d.begin_s > t_s) out.push_back(d);
  }
  return out;
}

// Waits for the first "starting defragment" any member logs after construction, reading only
// what each log gained, every millisecond: a kill lands inside a defrag of a few hundred ms.
class DefragStartWatcher {
 public:
  explicit DefragStartWatcher(const EtcdCluster& cluster) : cluster_(cluster) {
    for (int i = 0; i < cluster.size(); ++i) {
      offsets_.push_back(std::filesystem::file_size(cluster.log_path(i)));
    }
  }
  // The member's index, or -1 after timeout.
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (int i = 0; i < cluster_.size(); ++i) {
        std::ifstream in(cluster_.log_path(i), std::ios::binary);
        in.seekg(static_cast<std::streamoff>(offsets_[static_cast<std::size_t>(i)]));
        std::string fresh{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (fresh.find("\"starting defragment\"") != std::string::npos) return i;
        // Keep a partial last line for the next read.
        const auto nl = fresh.rfind('\n');
        if (nl != std::string::npos) offsets_[static_cast<std::size_t>(i)] += nl + 1;
      }
      std::this_thread::sleep_for(1ms);
    }
    return -1;
  }

 private:
  const EtcdCluster& cluster_;
  std::vector<std::uintmax_t> offsets_;
};

// The members whose defrags started after t_s, in start order, once at least n of them have
// finished and none is still running; what there is at timeout otherwise.
inline std::vector<int> wait_defrags_after(const EtcdCluster& cluster, double t_s, std::size_t n,
                                           std::chrono::milliseconds timeout) {
  std::vector<int> members;
  eventually(timeout, [&] {
    members.clear();
    std::size_t finished = 0;
    for (const auto& e : cluster.defrag_events()) {
      if (e.ts < t_s) continue;
      if (e.msg == "starting defragment") {
        members.push_back(e.member);
      } else {
        ++finished;
      }
    }
    return finished >= n && finished == members.size();
  });
  return members;
}

// Writes at ~puts_per_second in total, spread evenly over every member, each member through its
// own connection (bench::PutLoad), for the whole of a test: plaintext, or on a TLS cluster TLS
// with the cluster's own CA and client pair (read once, at the start: the certificates a test
// installs or breaks for the daemon or the CLI never touch the load's). Not for kAuth clusters
// (the load sends no credentials). The test declares when a member is down (killed, frozen or
// cut off) and when leadership changes by its own hand; stop() sorts every failed write by cause.
struct WriteTally {
  std::size_t attempted = 0;
  std::size_t failed = 0;
  std::size_t failed_member_down = 0;    // to a member killed, frozen or cut off by the test
  std::size_t failed_nospace = 0;        // etcd's own NOSPACE
  std::size_t failed_leader_change = 0;  // in flight when the test moved leadership
  std::size_t failed_healthy = 0;        // anything else: must be zero
  std::vector<std::string> healthy_errors;
  std::vector<std::string> leader_change_errors;

  std::string summary() const {
    std::ostringstream s;
    s << attempted << " writes, " << failed << " failed (" << failed_member_down
      << " to a killed/frozen/cut-off member, " << failed_nospace << " NOSPACE, "
      << failed_leader_change << " at an injected leader change, " << failed_healthy
      << " otherwise)";
    return s.str();
  }
};

// The `[faults] <test>: N writes, M failed (...)` line every fault test prints, and each failure
// not excused by an injected fault.
inline void report_writes(const std::string& test, const WriteTally& t) {
  std::cout << "[faults] " << test << ": " << t.summary() << std::endl;
  for (const auto& e : t.healthy_errors) {
    std::cout << "  healthy member write failed: " << e << "\n";
  }
  for (const auto& e : t.leader_change_errors) std::cout << "  at a leader change: " << e << "\n";
  std::cout << std::flush;
}

class WriteLoad {
 public:
  explicit WriteLoad(const EtcdCluster& cluster, double puts_per_second = 100)
      : WriteLoad(cluster, every_member(cluster), puts_per_second) {}

  // Through the given members of cluster only (the rate is spread over them).
  WriteLoad(const EtcdCluster& cluster, std::vector<int> members, double puts_per_second = 100)
      : WriteLoad(endpoints_of(cluster, members), members, tls_of(cluster), puts_per_second) {}

  // Through any gRPC targets (endpoints[k] reaches member members[k], the index every other
  // call of this class uses), e.g. forwarders into network namespaces.
  WriteLoad(std::vector<std::string> endpoints, std::vector<int> members, bench::TlsFiles tls,
            double puts_per_second = 100)
      : members_(std::move(members)) {
    if (endpoints.size() != members_.size() || endpoints.empty()) {
      throw std::invalid_argument("WriteLoad: one member index per endpoint");
    }
    bench::PutLoadOptions o;
    o.endpoints = std::move(endpoints);
    o.threads_per_member = 1;
    o.puts_per_second_per_member = puts_per_second / static_cast<double>(o.endpoints.size());
    o.value_bytes = 100;
    o.keys_per_thread = 64;  // a few KB of live data, however long the test
    o.call_timeout = 5s;
    o.max_reconnect_backoff = 1s;  // back at a member's first write once it is up again
    o.tls = std::move(tls);
    // Every failure's message is kept: stop() sorts by it, and a NOSPACE test fails thousands.
    o.max_error_notes = std::numeric_limits<std::size_t>::max();
    load_ = std::make_unique<bench::PutLoad>(o);
    load_->start();
  }
  // Member i is down (killed, frozen or cut off) from now until member_up(i) and then until its
  // first write that succeeds: the client reconnects with gRPC's backoff.
  void member_down(int i) { windows_.push_back({i, bench::wall_now_s(), -1}); }
  void member_up(int i) {
    for (auto& w : windows_) {
      if (w.member == i && w.end_s < 0) w.end_s = bench::wall_now_s();
    }
  }
  // Leadership moves by the test's hand (or its leader stops) at about at_s: etcd may fail
  // writes in flight on any member with its election errors for up to its request timeout.
  void leader_change(double at_s = bench::wall_now_s()) { leader_changes_.push_back(at_s); }

  WriteTally stop() {
    load_->stop();
    auto samples = load_->samples();
    for (auto& s : samples) s.member = members_.at(static_cast<std::size_t>(s.member));
    std::map<std::pair<int, double>, std::string> messages;  // by member and start
    for (const auto& e : load_->errors()) {
      messages.emplace(std::pair(members_.at(static_cast<std::size_t>(e.member)), e.at_s),
                       e.message);
    }
    WriteTally t;
    const double now = bench::wall_now_s();
    for (auto& w : windows_) {
      if (w.end_s < 0) w.end_s = now;
      double first_ok = now;
      for (const auto& s : samples) {
        if (s.member == w.member && s.ok && s.start_s >= w.end_s) {
          first_ok = std::min(first_ok, s.start_s);
        }
      }
      w.end_s = first_ok;
    }
    for (const auto& s : samples) {
      ++t.attempted;
      if (s.ok) continue;
      ++t.failed;
      const double end_s = s.start_s + s.latency_ms / 1000.0;
      bool down = false;
      for (const auto& w : windows_) {
        down = down || (w.member == s.member && end_s >= w.begin_s && s.start_s <= w.end_s);
      }
      if (down) {
        ++t.failed_member_down;
        continue;
      }
      const auto found = messages.find({s.member, s.start_s});
      const std::string message = found != messages.end() ? found->second : "(no message kept)";
      // etcd fails proposals in flight when leadership moves with its election errors, or holds
      // them until its request timeout (7 s with our 1 s elections): our 5 s deadline then fires
      // first.
      bool near_leader_change = false;
      bool across_leader_change = false;
      for (double at : leader_changes_) {
        near_leader_change = near_leader_change || (end_s >= at - 1 && s.start_s <= at + 10);
        across_leader_change = across_leader_change || (end_s >= at && s.start_s <= at + 1);
      }
      const std::string where = "member " + std::to_string(s.member) + " at " +
                                std::to_string(s.start_s) + ": " + message;
      if (message.find("database space exceeded") != std::string::npos) {
        ++t.failed_nospace;
      } else if ((near_leader_change && is_election_error(message)) ||
                 (across_leader_change && message.starts_with("DEADLINE_EXCEEDED"))) {
        ++t.failed_leader_change;
        t.leader_change_errors.push_back(where);
      } else {
        ++t.failed_healthy;
        t.healthy_errors.push_back(where);
      }
    }
    return t;
  }

 private:
  struct Window {
    int member;
    double begin_s;
    double end_s;
  };
  static bool is_election_error(const std::string& m) {
    return m.find("leader changed") != std::string::npos ||
           m.find("raft proposal dropped") != std::string::npos ||
           m.find("no leader") != std::string::npos ||
           m.find("possibly due to previous leader failure") != std::string::npos ||
           m.find("possibly due to connection lost") != std::string::npos ||
           m.find("request timed out") != std::string::npos;
  }

  static std::vector<int> every_member(const EtcdCluster& cluster) {
    std::vector<int> all;
    for (int i = 0; i < cluster.size(); ++i) all.push_back(i);
    return all;
  }
  static std::vector<std::string> endpoints_of(const EtcdCluster& cluster,
                                               const std::vector<int>& members) {
    std::vector<std::string> out;
    for (int i : members) out.push_back(cluster.client_endpoint(i));
    return out;
  }
  // The cluster's own CA and client pair when it speaks TLS (kTls: client certificates
  // required), nothing for plaintext.
  static bench::TlsFiles tls_of(const EtcdCluster& cluster) {
    if (!cluster.client_endpoint(0).starts_with("https://")) return {};
    return {cluster.ca_file(), cluster.client_cert_file(), cluster.client_key_file()};
  }

  std::vector<int> members_;  // the cluster member each of the load's endpoints reaches
  std::unique_ptr<bench::PutLoad> load_;
  std::vector<Window> windows_;
  std::vector<double> leader_changes_;
};

// The config of one `etcd-defragd run` for a fault test: every member, every time (min_interval
// makes it one run), with short deadlines so a dead or frozen member costs seconds; TLS files are
// the test's to set.
struct FaultDaemonConfig : DaemonConfig {
  FaultDaemonConfig() {
    dial_timeout = "1s";
    command_timeout = "3s";
    rule = "dbSize > 0";
    wait_between_defrags = "0s";
  }
};

// One `etcd-defragd run` with a FaultDaemonConfig in dir: 30 s to be ready (a member may be
// down), SIGKILLed when destroyed (the tests stop it themselves and check how it exited).
class FaultDaemon : public DaemonProcess {
 public:
  FaultDaemon(const std::string& dir, const FaultDaemonConfig& config)
      : DaemonProcess(DaemonLaunch{dir, config, {}, std::chrono::seconds(30), SIGKILL}) {}
};

inline std::string member_hex(const EtcdCluster& cluster, int i) {
  return hex(cluster.endpoint_status(cluster.client_endpoint(i)).front().member_id);
}

}  // namespace edd::test::faults
