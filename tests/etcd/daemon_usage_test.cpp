// The daemon's usage scan on a real cluster: only the lock holder scans, its top prefixes and
// "other" add up to every key, and a prefix that falls out of the top N leaves /metrics.
#include <catch2/catch.hpp>

#include <string>

#include "support/cluster_checks.h"
#include "support/daemon_process.h"
#include "support/metrics_text.h"

using namespace edd::test;
using namespace std::chrono_literals;

namespace {

// `count` keys of `value_bytes` each under prefix, in one etcdctl txn.
void put_keys(const EtcdCluster& cluster, const std::string& prefix, int count,
              std::size_t value_bytes) {
  std::string txn = "\n";
  for (int i = 0; i < count; ++i) {
    txn += "put " + prefix + std::to_string(i) + " " + std::string(value_bytes, 'v') + "\n";
  }
  txn += "\n\n";
  const CommandResult r = cluster.etcdctl({"txn"}, "", txn);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

std::int64_t key_count(const EtcdCluster& cluster) {
  const std::string out =
      cluster.etcdctl_ok({"get", "", "--from-key", "--keys-only", "--limit", "1", "-w", "json"});
  const auto at = out.find("\"count\":");
  return at == std::string::npos ? 0 : std::stoll(out.substr(at + 8));
}

double prefix_bytes(const DaemonProcess& d, const std::string& prefix) {
  return series_value(d.metrics(), "etcd_defragd_prefix_value_bytes{prefix=\"" + prefix + "\"}");
}

}  // namespace

TEST_CASE("daemons: the actor exports the top prefixes of its usage scan, old ones drop out",
          "[daemon][usage]") {
  auto cluster = EtcdCluster::start(cluster_options());
  put_keys(*cluster, "/registry/pods/default/p-", 20, 500);        // 10 kB
  put_keys(*cluster, "/registry/configmaps/default/c-", 4, 2000);  // 8 kB
  put_keys(*cluster, "/registry/events/default/e-", 30, 100);      // 3 kB
  DaemonSettings s;
  // DaemonSettings has no [usage_scan]; http_extra is the last text before [log], so a section
  // header here starts a section of its own.
  s.http_extra = "\n[usage_scan]\ninterval = \"2s\"\ntop = 2\npage_size = 5\nrate = 5000\n";
  auto daemons = start_daemons(*cluster, s);
  const int actor = lock_holder(daemons, 20s);
  REQUIRE(actor >= 0);
  const DaemonProcess& a = *daemons[actor];

  // A scan that started after every daemon had campaigned (their lock keys count too).
  const double up = series_value(a.metrics(), "etcd_defragd_usage_scan_timestamp_seconds");
  REQUIRE(eventually(20s, [&] {
    return series_value(a.metrics(), "etcd_defragd_usage_scan_timestamp_seconds") > up + 1;
  }));
  std::string text = a.metrics();
  INFO(text);
  CHECK(series_value(text, "etcd_defragd_prefix_keys{prefix=\"/registry/pods\"}") == 20);
  CHECK(series_value(text, "etcd_defragd_prefix_value_bytes{prefix=\"/registry/pods\"}") == 10000);
  CHECK(series_value(text, "etcd_defragd_prefix_keys{prefix=\"/registry/configmaps\"}") == 4);
  CHECK(series_value(text, "etcd_defragd_prefix_value_bytes{prefix=\"/registry/configmaps\"}") ==
        8000);
  // top = 2: events and the daemons' own keys are in "other"; all together are every key.
  CHECK(metric_samples(text, "etcd_defragd_prefix_keys").size() == 3);
  CHECK(series_value(text, "etcd_defragd_prefix_keys{prefix=\"/registry/events\"}") == -1);
  CHECK(series_value(text, "etcd_defragd_prefix_keys{prefix=\"other\"}") >= 30);
  CHECK(metric_sum(text, "etcd_defragd_prefix_keys") == static_cast<double>(key_count(*cluster)));
  CHECK(series_value(text, "etcd_defragd_usage_scan_duration_seconds") >= 0);
  CHECK(a.log().find("usage scan on ") != std::string::npos);

  // Only the actor scans: the others export no prefix and no scan time.
  for (std::size_t i = 0; i < daemons.size(); ++i) {
    if (static_cast<int>(i) == actor) continue;
    const std::string other = daemons[i]->metrics();
    CHECK(metric_samples(other, "etcd_defragd_prefix_keys").empty());
    CHECK(series_value(other, "etcd_defragd_usage_scan_timestamp_seconds") == 0);
  }

  // A new, larger prefix pushes configmaps out of the top 2 at a later scan.
  put_keys(*cluster, "/registry/leases/kube-system/l-", 10, 3000);  // 30 kB
  REQUIRE(eventually(20s, [&] { return prefix_bytes(a, "/registry/leases") == 30000; }));
  text = a.metrics();
  CHECK(series_value(text, "etcd_defragd_prefix_keys{prefix=\"/registry/configmaps\"}") == -1);
  CHECK(prefix_bytes(a, "/registry/pods") == 10000);
  CHECK(metric_samples(text, "etcd_defragd_prefix_value_bytes").size() == 3);
}
