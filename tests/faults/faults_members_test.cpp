// The fault matrix, member side: a member killed or frozen in the middle of a run, leadership
// moved or its holder stopped mid-run, bad and rotated client certificates. Each test runs on a
// fresh real 3-member cluster under a constant Put load (~100/s over the three members; on TLS
// clusters over TLS with the cluster's own good CA and client pair, whatever broken or rotated
// files the test hands the CLI or the daemon) and ends with the data check: the same keys and
// values as before (the load's /load/ keys and the daemon's /etcd-defragd/ keys aside) on every
// member, and the same HashKV everywhere. No write may fail but to a member the test took down, at
// a leader change it caused, or with etcd's NOSPACE.
#include <catch2/catch.hpp>

#include <future>
#include <iostream>

#include "harness/pki.h"
#include "harness/test_record.h"
#include "support/fault_fixture.h"
#include "support/files.h"
#include "support/metrics_text.h"

using namespace edd::test;
using namespace edd::test::faults;
using Catch::Contains;

namespace {

std::future<CommandResult> defrag_async(std::vector<std::string> args) {
  args.insert(args.begin(), "defrag");
  return std::async(std::launch::async, [args] { return run_edd(args, 90s); });
}

// The first line of text that contains needle ("" when none).
std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return "";
}

const std::string kRuns = "etcd_defragd_runs_total";

}  // namespace

TEST_CASE(
    "member faults: the member being defragmented is SIGKILLed - the CLI stops naming it and "
    "touches no other member, a daemon finishes after the restart",
    "[faults][kill]") {
  const ScratchDir scratch;
  auto cluster = EtcdCluster::start(scratch.cluster());
  // ~120 MB live: one member's defrag takes a few hundred ms, long enough to kill it inside.
  seed_values(*cluster, "/data/", 120, 1024 * 1024);
  const DataDigest before = data_digest(*cluster, 0, false);
  REQUIRE(before.key_count == 120);
  WriteLoad load(*cluster);
  const int leader = leader_index(*cluster);

  DefragStartWatcher watcher(*cluster);
  auto cli = defrag_async(
      {"--endpoints", cluster->endpoints_csv(), "--dial-timeout", "1s", "--command-timeout", "3s"});
  const int victim = watcher.wait(60s);
  REQUIRE(victim >= 0);
  // Down from just before the signal: its clients see the socket close before kill_member returns.
  load.member_down(victim);
  const Kill kill{victim, edd::bench::wall_now_s()};
  cluster->kill_member(victim, SIGKILL);
  CHECK(victim != leader);  // followers first

  const CommandResult r = cli.get();
  INFO("etcd-defragd defrag:\n" << r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(line_with(r.out, "Aborting"), Contains(cluster->client_endpoint(victim)));
  // A connection closed by a dying member is not blamed on TLS (it once said "TLS mismatch?").
  CHECK(line_with(r.out, "Failed to defragment").find("TLS mismatch") == std::string::npos);
  {
    const auto intervals = defrag_intervals(*cluster, {kill});
    REQUIRE(intervals.size() == 1);
    CHECK(intervals[0].member == victim);
    CHECK_FALSE(intervals[0].finished);  // the kill landed inside the defrag
  }

  cluster->start_member(victim);
  cluster->wait_healthy(60s);
  load.member_up(victim);
  const int leader_now = leader_index(*cluster);
  const double restarted = edd::bench::wall_now_s();
  FaultDaemonConfig config;
  config.endpoint = cluster->client_endpoint(victim);
  FaultDaemon daemon(cluster->dir() + "/daemon", config);
  REQUIRE(eventually(90s, [&] {
    return metric_value(daemon.metrics(), kRuns, {R"(result="success",trigger="rule")"}) == 1;
  }));
  const std::vector<int> order = wait_defrags_after(*cluster, restarted, 3, 30s);
  REQUIRE(order.size() == 3);
  CHECK(std::set<int>(order.begin(), order.end()).size() == 3);
  CHECK(order.back() == leader_now);
  CHECK(daemon.stop(SIGTERM) == 0);

  const WriteTally writes = load.stop();
  report_writes("SIGKILL mid-defrag", writes);
  CHECK(writes.failed_healthy == 0);
  CHECK(writes.failed_leader_change == 0);
  defrag_intervals(*cluster, {kill});  // never two at once, over the whole test
  check_data_intact(*cluster, before);
}

TEST_CASE(
    "member faults: a member frozen with SIGSTOP mid-run - deadlines fire, the run stops "
    "naming it in the log and the metrics, SIGCONT and a later poll complete it",
    "[faults][freeze]") {
  const ScratchDir scratch;
  auto cluster = EtcdCluster::start(scratch.cluster());
  seed_values(*cluster, "/data/", 200, 16 * 1024);
  const DataDigest before = data_digest(*cluster, 0, false);
  WriteLoad load(*cluster);
  const int leader = leader_index(*cluster);

  FaultDaemonConfig config;
  config.endpoint = cluster->client_endpoint(leader);
  config.wait_between_defrags = "3s";  // a run slow enough to freeze a member in the middle
  const double started = edd::bench::wall_now_s();
  FaultDaemon daemon(cluster->dir() + "/daemon", config);
  const std::vector<int> first = wait_defrags_after(*cluster, started, 1, 60s);
  REQUIRE(first.size() == 1);
  const int done = first[0];
  REQUIRE(done != leader);
  const int frozen = 3 - leader - done;  // the follower the run would defragment next
  load.member_down(frozen);
  const double frozen_at = edd::bench::wall_now_s();
  cluster->kill_member(frozen, SIGSTOP);

  const std::string frozen_ep = cluster->client_endpoint(frozen);
  REQUIRE(eventually(60s, [&] {
    return metric_value(daemon.metrics(), kRuns, {R"(result="aborted",trigger="rule")"}) >= 1;
  }));
  INFO("daemon log:\n" << daemon.log());
  CHECK_THAT(line_with(daemon.log(), "Aborting: "), Contains(frozen_ep));
  CHECK_THAT(line_with(daemon.log(), "run finished (rule): aborted"), Contains(frozen_ep));
  CHECK(eventually(30s, [&] {
    return metric_value(daemon.metrics(), "etcd_defragd_member_healthy", {frozen_ep + "\""}) == 0;
  }));
  CHECK(metric_value(daemon.metrics(), "etcd_defragd_member_defrags_total",
                     {"\"" + cluster->member_name(frozen) + "\"", R"(result="not reached")"}) >= 1);
  CHECK(started_after(defrag_intervals(*cluster), frozen_at).empty());

  cluster->kill_member(frozen, SIGCONT);
  load.member_up(frozen);
  const double resumed = edd::bench::wall_now_s();
  REQUIRE(eventually(90s, [&] {
    return metric_value(daemon.metrics(), kRuns, {R"(result="success",trigger="rule")"}) == 1;
  }));
  const std::vector<int> order = wait_defrags_after(*cluster, resumed, 3, 30s);
  REQUIRE(order.size() == 3);
  CHECK(order.back() == leader_index(*cluster));
  CHECK(eventually(30s, [&] {
    return metric_value(daemon.metrics(), "etcd_defragd_member_healthy", {frozen_ep + "\""}) == 1;
  }));
  CHECK(daemon.stop(SIGTERM) == 0);

  const WriteTally writes = load.stop();
  report_writes("SIGSTOP mid-run", writes);
  CHECK(writes.failed_healthy == 0);
  CHECK(writes.failed_leader_change == 0);
  defrag_intervals(*cluster);
  check_data_intact(*cluster, before);
}

TEST_CASE(
    "member faults: leadership moved by hand mid-run - the run re-reads who leads and "
    "defragments the new leader last",
    "[faults][leader]") {
  const ScratchDir scratch;
  auto cluster = EtcdCluster::start(scratch.cluster());
  seed_values(*cluster, "/data/", 200, 16 * 1024);
  const DataDigest before = data_digest(*cluster, 0, false);
  WriteLoad load(*cluster);
  const int leader = leader_index(*cluster);

  const double started = edd::bench::wall_now_s();
  auto cli = defrag_async({"--endpoints", cluster->endpoints_csv(), "--wait-between-defrags", "3s",
                           "--dial-timeout", "1s", "--command-timeout", "3s"});
  const std::vector<int> first = wait_defrags_after(*cluster, started, 1, 60s);
  REQUIRE(first.size() == 1);
  REQUIRE(first[0] != leader);
  const int next = 3 - leader - first[0];  // not defragmented yet: it becomes the leader
  load.leader_change();
  cluster->etcdctl_ok({"move-leader", member_hex(*cluster, next)},
                      cluster->client_endpoint(leader));
  REQUIRE(eventually(10s, [&] { return leader_index(*cluster) == next; }));

  const CommandResult r = cli.get();
  INFO("etcd-defragd defrag:\n" << r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("Member " + cluster->client_endpoint(next) +
                             " is now the leader: defragmenting it last"));
  const std::vector<int> order = wait_defrags_after(*cluster, started, 3, 10s);
  CHECK(order == std::vector<int>{first[0], leader, next});
  CHECK(leader_index(*cluster) == next);  // it still led when its own defrag came, last

  const WriteTally writes = load.stop();
  report_writes("move-leader mid-run", writes);
  CHECK(writes.failed_healthy == 0);
  defrag_intervals(*cluster);
  check_data_intact(*cluster, before);
}

TEST_CASE(
    "member faults: the leader stopped mid-run - the run stops cleanly naming it, after its "
    "restart a new run finishes with the current leader last",
    "[faults][leader]") {
  const ScratchDir scratch;
  auto cluster = EtcdCluster::start(scratch.cluster());
  seed_values(*cluster, "/data/", 200, 16 * 1024);
  const DataDigest before = data_digest(*cluster, 0, false);
  WriteLoad load(*cluster);
  const int leader = leader_index(*cluster);

  const double started = edd::bench::wall_now_s();
  auto cli = defrag_async({"--endpoints", cluster->endpoints_csv(), "--wait-between-defrags", "3s",
                           "--dial-timeout", "1s", "--command-timeout", "3s"});
  const std::vector<int> first = wait_defrags_after(*cluster, started, 1, 60s);
  REQUIRE(first.size() == 1);
  REQUIRE(first[0] != leader);
  load.leader_change();
  load.member_down(leader);
  cluster->stop_member(leader);
  const double stopped_at = edd::bench::wall_now_s();
  // The change lasts from SIGTERM (the leader hands over) to its exit (the hand-over's proposals
  // in flight are lost with it): seconds on a loaded host.
  load.leader_change(stopped_at);

  const CommandResult r = cli.get();
  INFO("etcd-defragd defrag:\n" << r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(line_with(r.out, "Aborting"), Contains(cluster->client_endpoint(leader)));
  CHECK(started_after(defrag_intervals(*cluster), stopped_at).empty());
  // A leader stopped with SIGTERM hands leadership over first, which takes a while on a loaded
  // host: the other follower may have been defragmented meanwhile, on a healthy cluster. Never the
  // leader.
  const std::vector<int> done = wait_defrags_after(*cluster, started, 1, 0s);
  REQUIRE_FALSE(done.empty());
  CHECK(done.front() == first.front());
  CHECK(std::find(done.begin(), done.end(), leader) == done.end());

  cluster->start_member(leader);
  cluster->wait_healthy(60s);
  load.member_up(leader);
  const int leader_now = leader_index(*cluster);
  const double restarted = edd::bench::wall_now_s();
  const CommandResult again = run_edd({"defrag", "--endpoints", cluster->endpoints_csv()});
  INFO("second run:\n" << again.out << again.err);
  CHECK(again.exit_code == 0);
  const std::vector<int> order = wait_defrags_after(*cluster, restarted, 3, 10s);
  REQUIRE(order.size() == 3);
  CHECK(order.back() == leader_now);

  const WriteTally writes = load.stop();
  report_writes("leader stopped mid-run", writes);
  CHECK(writes.failed_healthy == 0);
  defrag_intervals(*cluster);
  check_data_intact(*cluster, before);
}

namespace {

void openssl_ok(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = run_command(argv, 30s);
  INFO("openssl " << args.front() << ": " << r.err);
  REQUIRE(r.exit_code == 0);
}

struct ClientPair {
  std::string cert;
  std::string key;
};

constexpr const char* kClientExtensions =
    "extendedKeyUsage=clientAuth\n"
    "keyUsage=critical,digitalSignature,keyEncipherment\n"
    "basicConstraints=CA:FALSE\n";

// Test certificates beside a TLS cluster's own: signed by its CA (files in dir()/pki), by a
// foreign CA, already expired, or a key that belongs to no certificate.
class Certificates {
 public:
  explicit Certificates(const EtcdCluster& cluster)
      : dir_(cluster.dir() + "/test-certs"),
        ca_cert_(cluster.ca_file()),
        ca_key_((std::filesystem::path(cluster.ca_file()).parent_path() / "ca.key").string()) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/client.ext") << kClientExtensions;
  }

  // A fresh key and a certificate for CN root from the cluster's CA, valid for two days.
  ClientPair signed_by_cluster_ca(const std::string& stem, int serial) {
    const ClientPair p = request(stem);
    openssl_ok({"x509", "-req", "-in", dir_ + "/" + stem + ".csr", "-CA", ca_cert_, "-CAkey",
                ca_key_, "-set_serial", std::to_string(serial), "-days", "2", "-extfile",
                dir_ + "/client.ext", "-out", p.cert});
    return p;
  }

  // From the cluster's CA, valid in January 2020 only. OpenSSL 3.0's x509 has no way to date a
  // certificate in the past; `openssl ca` does, with -startdate/-enddate and a tiny database.
  ClientPair expired() {
    const ClientPair p = request("expired");
    const std::string ca_dir = dir_ + "/ca-db";
    std::filesystem::create_directories(ca_dir);
    std::ofstream(ca_dir + "/index.txt");
    std::ofstream(ca_dir + "/serial") << "1000\n";
    std::ofstream(ca_dir + "/ca.cnf")
        << "[ca]\ndefault_ca = edd\n[edd]\ndatabase = " << ca_dir
        << "/index.txt\nnew_certs_dir = " << ca_dir << "\nserial = " << ca_dir
        << "/serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n"
        << "[any]\ncommonName = supplied\n[client]\n"
        << kClientExtensions;
    openssl_ok({"ca", "-batch", "-config", ca_dir + "/ca.cnf", "-cert", ca_cert_, "-keyfile",
                ca_key_, "-in", dir_ + "/expired.csr", "-out", p.cert, "-notext", "-startdate",
                "20200101000000Z", "-enddate", "20200102000000Z", "-extensions", "client"});
    return p;
  }

  // A client pair (and its CA) from another authority the cluster does not trust.
  TestPki foreign() { return generate_test_pki(dir_ + "/foreign"); }

  // An EC key that belongs to no certificate.
  std::string stray_key() {
    const std::string key = dir_ + "/stray.key";
    openssl_ok({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key});
    remember_key_file(key);
    return key;
  }

 private:
  ClientPair request(const std::string& stem) {
    const ClientPair p{dir_ + "/" + stem + ".crt", dir_ + "/" + stem + ".key"};
    openssl_ok({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", p.key, "-out", dir_ + "/" + stem + ".csr", "-subj",
                "/CN=root"});
    remember_key_file(p.key);
    return p;
  }

  std::string dir_, ca_cert_, ca_key_;
};

// Runs `defrag` with the given TLS files and checks it failed cleanly and touched nothing; returns
// its output (stdout and stderr).
std::string defrag_with_bad_tls(const EtcdCluster& cluster, const std::string& cacert,
                                const std::string& cert, const std::string& key) {
  cluster.etcdctl_ok({"put", "/k", "v1"});
  const std::int64_t old_revision = current_revision(cluster, cluster.client_endpoint(0));
  cluster.etcdctl_ok({"put", "/k", "v2"});
  const CommandResult r =
      run_edd({"defrag", "--endpoints", cluster.endpoints_csv(), "--cacert", cacert, "--cert", cert,
               "--key", key, "--dial-timeout", "1s", "--command-timeout", "3s"},
              60s);
  INFO("etcd-defragd defrag:\n" << r.out << r.err);
  CHECK((r.exit_code == 1 || r.exit_code == 2));  // a clean failure, no crash, no hang
  CHECK(cluster.defrag_events().empty());
  CHECK(revision_readable(cluster, "/k", old_revision));  // nothing compacted
  return r.out + r.err;
}

}  // namespace

TEST_CASE(
    "member faults: TLS - a wrong CA, an expired client certificate, a key that does not match: "
    "each a clean failure that touches nothing, the wrong CA named",
    "[faults][tls]") {
  const ScratchDir scratch;
  auto cluster = EtcdCluster::start(scratch.cluster(Security::kTls));
  WriteLoad load(*cluster);  // over TLS, with the cluster's own good files
  Certificates certs(*cluster);
  const TestPki foreign = certs.foreign();
  const ClientPair expired = certs.expired();
  const std::string stray_key = certs.stray_key();
  {
    const std::string out = defrag_with_bad_tls(
        *cluster, foreign.ca_file, cluster->client_cert_file(), cluster->client_key_file());
    INFO(out);
    CHECK_THAT(line_with(out, "--cacert"), Contains("not trusted"));
  }
  defrag_with_bad_tls(*cluster, cluster->ca_file(), expired.cert, expired.key);
  defrag_with_bad_tls(*cluster, cluster->ca_file(), cluster->client_cert_file(), stray_key);

  const WriteTally writes = load.stop();
  report_writes("TLS wrong CA, expired certificate, stray key", writes);
  CHECK(writes.failed_healthy == 0);
  CHECK(writes.failed_leader_change == 0);
}

// etcd would reject the certificate in the handshake with only "Endpoint read failed" to show
// for it: the CLI checks the files before anything runs and names the flag.
TEST_CASE("member faults: TLS - an expired client certificate is named with its flag",
          "[faults][tls]") {
  const ScratchDir scratch;
  auto cluster = EtcdCluster::start(scratch.cluster(Security::kTls));
  WriteLoad load(*cluster);
  const ClientPair expired = Certificates(*cluster).expired();
  const CommandResult r =
      run_edd({"defrag", "--endpoints", cluster->endpoints_csv(), "--cacert", cluster->ca_file(),
               "--cert", expired.cert, "--key", expired.key, "--dial-timeout", "1s"},
              60s);
  INFO(r.out << r.err);
  const std::string line = line_with(r.out + r.err, "--cert");
  CHECK_THAT(line, Contains("expired"));
  CHECK_THAT(line, Contains(expired.cert));

  const WriteTally writes = load.stop();
  report_writes("TLS expired certificate named", writes);
  CHECK(writes.failed_healthy == 0);
  CHECK(writes.failed_leader_change == 0);
}

// gRPC alone would log "Invalid private key" and fail every call with "empty address list": the
// CLI checks the key against the certificate before anything runs and names the flag.
TEST_CASE("member faults: TLS - a key that does not match the certificate is named with its flag",
          "[faults][tls]") {
  const ScratchDir scratch;
  auto cluster = EtcdCluster::start(scratch.cluster(Security::kTls));
  WriteLoad load(*cluster);
  const std::string key = Certificates(*cluster).stray_key();
  const CommandResult r =
      run_edd({"defrag", "--endpoints", cluster->endpoints_csv(), "--cacert", cluster->ca_file(),
               "--cert", cluster->client_cert_file(), "--key", key, "--dial-timeout", "1s"},
              60s);
  INFO(r.out << r.err);
  const std::string line = line_with(r.out + r.err, "--key");
  CHECK_THAT(line, Contains("does not match"));
  CHECK_THAT(line, Contains(key));

  const WriteTally writes = load.stop();
  report_writes("TLS mismatched key named", writes);
  CHECK(writes.failed_healthy == 0);
  CHECK(writes.failed_leader_change == 0);
}

TEST_CASE(
    "member faults: TLS - client certificates rotated on disk are used after SIGHUP, without "
    "a restart",
    "[faults][tls]") {
  const ScratchDir scratch;
  auto cluster = EtcdCluster::start(scratch.cluster(Security::kTls));
  seed_values(*cluster, "/data/", 200, 16 * 1024);
  const DataDigest before = data_digest(*cluster, 0, false);
  // Over TLS with the cluster's own pair, read now: the files the test rotates are the daemon's.
  WriteLoad load(*cluster);
  Certificates certs(*cluster);
  const std::string cert = cluster->dir() + "/rotated.crt";
  const std::string key = cluster->dir() + "/rotated.key";
  auto install = [&](const std::string& from_cert, const std::string& from_key) {
    // Written over the old files in place, as a certificate manager does.
    std::ofstream(cert, std::ios::trunc) << read_file(from_cert);
    std::ofstream(key, std::ios::trunc) << read_file(from_key);
    std::filesystem::permissions(
        key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  };
  install(cluster->client_cert_file(), cluster->client_key_file());

  FaultDaemonConfig config;
  config.endpoint = cluster->client_endpoint(0);
  config.cacert = cluster->ca_file();
  config.cert = cert;
  config.key = key;
  config.rule = "dbSize < 0";  // never, until the last reload
  FaultDaemon daemon(cluster->dir() + "/daemon", config);
  const pid_t pid = daemon.pid();
  auto healthy_members = [&] {
    const std::string text = daemon.metrics();
    int n = 0;
    for (int i = 0; i < 3; ++i) {
      n += metric_value(text, "etcd_defragd_member_healthy",
                        {cluster->client_endpoint(i) + "\""}) == 1;
    }
    return n;
  };
  REQUIRE(eventually(30s, [&] { return healthy_members() == 3; }));
  auto reloads = [&] {
    const std::string log = daemon.log();
    std::size_t n = 0;
    for (auto at = log.find("etcd client rebuilt"); at != std::string::npos;
         at = log.find("etcd client rebuilt", at + 1)) {
      ++n;
    }
    return n;
  };

  // A pair the members do not trust: once re-read, every poll fails. Proof the files are read
  // again (the old pair, still in memory, would keep working).
  const TestPki foreign = certs.foreign();
  install(foreign.client_cert_file, foreign.client_key_file);
  const double poll_errors = metric_value(daemon.metrics(), "etcd_defragd_poll_errors_total");
  daemon.signal(SIGHUP);
  REQUIRE(eventually(10s, [&] { return reloads() == 1; }));
  CHECK(eventually(30s, [&] {
    return healthy_members() == 0 &&
           metric_value(daemon.metrics(), "etcd_defragd_poll_errors_total") > poll_errors;
  }));

  // The rotation proper: a new pair from the same CA over the same files, and the rule on.
  const ClientPair fresh = certs.signed_by_cluster_ca("fresh", 4242);
  install(fresh.cert, fresh.key);
  config.rule = "dbSize > 0";
  daemon.write_config(config);
  const int leader = leader_index(*cluster);
  const double reloaded = edd::bench::wall_now_s();
  daemon.signal(SIGHUP);
  REQUIRE(eventually(10s, [&] { return reloads() == 2; }));
  CHECK(eventually(30s, [&] { return healthy_members() == 3; }));
  INFO("daemon log:\n" << daemon.log());
  REQUIRE(eventually(60s, [&] {
    return metric_value(daemon.metrics(), kRuns, {R"(result="success",trigger="rule")"}) == 1;
  }));
  const std::vector<int> order = wait_defrags_after(*cluster, reloaded, 3, 30s);
  REQUIRE(order.size() == 3);
  CHECK(order.back() == leader);
  CHECK(daemon.pid() == pid);
  CHECK(daemon.running());
  CHECK(daemon.stop(SIGTERM) == 0);

  const WriteTally writes = load.stop();
  report_writes("TLS rotation on SIGHUP", writes);
  CHECK(writes.failed_healthy == 0);
  CHECK(writes.failed_leader_change == 0);
  defrag_intervals(*cluster);
  check_data_intact(*cluster, before);
}
