// The daemon's usage scan through the whole daemon on fakes: the actor scans after a step that
// ran nothing (not in the step that ran), exports its top prefixes, and drops them once another
// daemon holds the lock.
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>

#include "config/loader.h"
#include "fake_cluster.h"
#include "fake_lock_client.h"
#include "service/daemon.h"

using namespace edd;
using namespace edd::service;
using edd::test::FakeCluster;
using edd::test::FakeLockClient;
using edd::test::kEtcd1;
using edd::test::three_members;

namespace {

class NullNotifier final : public Notifier {
 public:
  void notify(const std::string& /*state*/) override {}
};

// One page of a few Kubernetes keys; counts the pages read.
class FakeScanner final : public etcd::KeyScanner {
 public:
  int pages = 0;
  std::string endpoint;
  Result<etcd::ScanPage> range_page(const std::string& ep, const etcd::PageRequest&) override {
    ++pages;
    endpoint = ep;
    etcd::ScanPage page;
    page.revision = 3;
    page.keys = {{"/registry/pods/a/1", 4000, 1},
                 {"/registry/pods/a/2", 4000, 1},
                 {"/registry/events/a/1", 500, 1},
                 {"/registry/secrets/a/1", 100, 1}};
    return page;
  }
};

config::Config config_of(const std::string& extra) {
  const auto r = config::load_config_string(
      "[etcd]\nendpoints = [\"etcd-1:2379\", \"etcd-2:2379\", \"etcd-3:2379\"]\n"
      "local_endpoint = \"etcd-1:2379\"\n"
      "[policy]\npoll_interval = \"10s\"\npause_file = \"/nonexistent/etcd-defragd-pause\"\n"
      "min_interval = \"1h\"\n" +
          extra,
      "test.toml");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.config);
  return *r.config;
}

struct Fixture {
  FakeCluster cluster{three_members(), 1};
  FakeLockClient store;
  FakeScanner scanner;
  ManualClock clock;
  NullNotifier notifier;
  Log log{config::LogConfig{}};

  std::unique_ptr<Daemon> start(const config::Config& c) {
    auto cluster_ptr = std::shared_ptr<etcd::ClusterClient>(&cluster, [](auto*) {});
    auto store_ptr = std::shared_ptr<etcd::LockClient>(&store, [](auto*) {});
    auto scanner_ptr = std::shared_ptr<etcd::KeyScanner>(&scanner, [](auto*) {});
    World world{clock, notifier,
                [=](const etcd::ClientOptions&) -> Result<EtcdConnection> {
                  return EtcdConnection{{cluster_ptr, store_ptr}, {}, scanner_ptr};
                },
                "0123456789abcdef"};
    auto d = Daemon::create(c, world, log);
    REQUIRE(d);
    return std::move(*d);
  }
};

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("daemon: the actor scans its own member after a step that ran nothing") {
  Fixture f;
  auto d = f.start(config_of("rule = \"dbSize > 0\"\n[usage_scan]\ntop = 1\n"));
  CHECK(d->step().decision == Decision::kRan);
  CHECK(f.scanner.pages == 0);  // never in the step that ran
  CHECK(has(d->metrics_text(), "etcd_defragd_usage_scan_timestamp_seconds 0"));
  d->step();  // the cooldown: nothing runs, so the scan does
  CHECK(f.scanner.pages == 1);
  CHECK(f.scanner.endpoint == "etcd-1:2379");
  const std::string text = d->metrics_text();
  CHECK(has(text, "etcd_defragd_prefix_value_bytes{prefix=\"/registry/pods\"} 8000"));
  CHECK(has(text, "etcd_defragd_prefix_keys{prefix=\"other\"} 2"));
  CHECK_FALSE(has(text, "prefix=\"/registry/events\""));
  d->step();  // within the interval (3h): no new scan
  CHECK(f.scanner.pages == 1);
}

TEST_CASE("daemon: with usage_scan disabled nothing is scanned") {
  Fixture f;
  auto d = f.start(config_of("[usage_scan]\nenabled = false\n"));
  d->step();
  d->step();
  CHECK(f.scanner.pages == 0);
  CHECK_FALSE(has(d->metrics_text(), "etcd_defragd_prefix_keys{"));
}

TEST_CASE("daemon: a daemon that lost the lock drops its prefix series") {
  Fixture f;
  auto d = f.start(config_of(""));
  d->step();
  REQUIRE(has(d->metrics_text(), "etcd_defragd_prefix_keys{prefix=\"/registry/pods\"} 2"));
  // Our lease expires and another daemon's key is older than our next one.
  const auto ours = f.store.list_prefix(kEtcd1, "/etcd-defragd/lock/", 0);
  REQUIRE(ours);
  REQUIRE(ours->size() == 1);
  f.store.expire(ours->front().lease);
  auto other = f.store.lease_grant(kEtcd1, std::chrono::seconds(60));
  REQUIRE(other);
  REQUIRE(f.store.create_key(kEtcd1, "/etcd-defragd/lock/other", "other-host", *other));
  f.clock.advance(std::chrono::seconds(61));
  d->expire_lock_if_due();
  d->step();
  const std::string text = d->metrics_text();
  CHECK(has(text, "etcd_defragd_lock_held 0"));
  CHECK_FALSE(has(text, "etcd_defragd_prefix_keys{"));
  CHECK_FALSE(has(text, "etcd_defragd_prefix_value_bytes{"));
  CHECK(f.scanner.pages == 1);
}
