// Room on disk on a real cluster: one member's data directory on a small tmpfs made for the test,
// filled until it has less free than in use x 1.2 + 64 MiB. Its daemon publishes that; the
// actor skips the member with the reason and defragments the others, the leader last.
#include <sys/statvfs.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include "support/cluster_checks.h"
#include "support/daemon_process.h"
#include "support/metrics_text.h"

using namespace edd::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMargin = 64LL * 1024 * 1024;

std::int64_t free_bytes(const std::string& dir) {
  struct statvfs s {};
  REQUIRE(statvfs(dir.c_str(), &s) == 0);
  return static_cast<std::int64_t>(s.f_bavail) * static_cast<std::int64_t>(s.f_frsize);
}

// Member `member`'s data directory moved onto a tmpfs of `size` (stopped, copied, restarted).
// The destructor stops the member and unmounts, before the cluster removes its directory.
class TmpfsDataDir {
 public:
  TmpfsDataDir(EtcdCluster& cluster, int member, const std::string& size)
      : cluster_(cluster), member_(member), dir_(cluster.data_dir(member)) {
    cluster_.stop_member(member_);
    fs::rename(dir_, dir_ + ".disk");
    fs::create_directories(dir_);
    const auto m = run_command(
        {"mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "edd-room-test", dir_}, 10s);
    INFO(m.err);
    REQUIRE(m.exit_code == 0);
    mounted_ = true;
    REQUIRE(run_command({"cp", "-a", dir_ + ".disk/.", dir_ + "/"}, 60s).exit_code == 0);
    cluster_.start_member(member_);
    cluster_.wait_healthy(20s);
  }
  ~TmpfsDataDir() {
    cluster_.stop_member(member_);
    if (mounted_) run_command({"umount", dir_}, 10s);
  }
  TmpfsDataDir(const TmpfsDataDir&) = delete;
  TmpfsDataDir& operator=(const TmpfsDataDir&) = delete;
  const std::string& dir() const { return dir_; }

 private:
  EtcdCluster& cluster_;
  int member_;
  std::string dir_;
  bool mounted_ = false;
};

// Fills dir with one file until `leave` bytes are free.
void fill_until(const std::string& dir, std::int64_t leave) {
  const std::int64_t size = free_bytes(dir) - leave;
  REQUIRE(size > 0);
  const auto r =
      run_command({"fallocate", "-l", std::to_string(size), dir + "/edd-room-test-filler"}, 30s);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("daemons: a member whose host has no room for the new file is skipped, the others done",
          "[daemon]") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: needs root to mount a small tmpfs for one member's data directory");
    return;
  }
  auto cluster = EtcdCluster::start(cluster_options());
  const int leader = leader_index(*cluster);
  const int small = (leader + 1) % cluster->size();  // a follower: the leader must still go last
  // etcd preallocates 64 MB WAL segments (and the next one): 512 MiB holds them and the db.
  TmpfsDataDir tmpfs(*cluster, small, "512m");
  // Little written, so the WAL stays in its preallocated segment once the disk is filled.
  cluster->write_and_fragment(12LL * 1024 * 1024);
  const auto before = cluster->endpoint_status();
  const std::int64_t in_use = before[small].db_size_in_use_bytes;
  const std::int64_t need = in_use + (in_use + 4) / 5 + kMargin;
  fill_until(tmpfs.dir(), need / 2);
  const std::int64_t room = free_bytes(tmpfs.dir());
  REQUIRE(room < need);
  const int new_leader = leader_index(*cluster);
  REQUIRE(new_leader != small);

  // The small member's daemon publishes its room before anyone may act: the others start paused.
  DaemonSettings s;
  Daemons daemons(cluster->size());
  for (int i = 0; i < cluster->size(); ++i) {
    if (i == small) continue;
    fs::create_directories(cluster->dir() + "/daemon-" + std::to_string(i));
    std::ofstream(cluster->dir() + "/daemon-" + std::to_string(i) + "/pause") << "";
    s.etcd_extra = "data_dir = \"" + cluster->data_dir(i) + "\"";
    daemons[i] = std::make_unique<DaemonProcess>(*cluster, i, s);
  }
  const int actor = lock_holder(daemons, 20s);
  REQUIRE(actor >= 0);
  s.etcd_extra = "data_dir = \"" + tmpfs.dir() + "\"";
  daemons[small] = std::make_unique<DaemonProcess>(*cluster, small, s);
  const std::string key_prefix = "/etcd-defragd/disk-room/";
  REQUIRE(eventually(10s, [&] {
    return cluster->etcdctl_ok({"get", key_prefix, "--prefix", "--keys-only"})
               .find(key_prefix + hex(before[small].member_id)) != std::string::npos;
  }));
  for (int i = 0; i < cluster->size(); ++i) {
    if (i != small) fs::remove(daemons[i]->pause_file());
  }

  REQUIRE(eventually(30s, [&] {
    return daemons[actor]->log().find("run finished") != std::string::npos ||
           cluster->defrag_events().size() >= 4;
  }));
  std::this_thread::sleep_for(3s);  // several more polls: nothing else may happen

  const auto order = defrag_order_from_logs(*cluster);
  INFO("actor log:\n" << daemons[actor]->log());
  REQUIRE(order.size() == 2);
  CHECK(std::find(order.begin(), order.end(), small) == order.end());
  CHECK(order.back() == new_leader);
  const auto after = cluster->endpoint_status();
  CHECK(after[small].db_size_bytes == before[small].db_size_bytes);
  for (int i = 0; i < cluster->size(); ++i) {
    if (i != small) CHECK(after[i].db_size_bytes < before[i].db_size_bytes);
  }
  // One line naming the member, its host and directory, the free bytes and the need.
  const std::string name = cluster->member_name(small);
  const std::string line = cluster->client_endpoint(small) +
                           "\": no room on disk for a defrag: member " + name + " (" +
                           hex(before[small].member_id) + ") on host ";
  const std::string log = daemons[actor]->log();
  const auto at = log.find(line);
  REQUIRE(at != std::string::npos);
  const auto start = log.rfind('\n', at) + 1;
  const std::string said = log.substr(start, log.find('\n', at) - start);
  CHECK(said.find(" info Skipping endpoint \"") != std::string::npos);
  CHECK(said.find("(" + tmpfs.dir() + ") has ") != std::string::npos);
  CHECK(said.find("a defrag needs") != std::string::npos);
  // The numbers: what the tmpfs had free, and in use x 1.2 + 64 MiB (in use as the run read it,
  // after its compaction, so near the test's own figure rather than equal).
  std::smatch nums;
  REQUIRE(std::regex_search(
      said, nums, std::regex(R"(\((\d+) bytes\) free, a defrag needs .* \((\d+) bytes\))")));
  const std::int64_t said_free = std::stoll(nums[1]);
  const std::int64_t said_need = std::stoll(nums[2]);
  CHECK(said_free < said_need);
  CHECK(std::llabs(said_free - room) < 4 * 1024 * 1024);
  CHECK(std::llabs(said_need - need) < 4 * 1024 * 1024);
  std::cout << "room test: " << said << "\n";

  // The metrics say so: the actor counted the skip; every daemon shows the small member's room.
  CHECK(daemons[actor]->metric("etcd_defragd_member_no_room_skips_total{member=\"" + name +
                               "\"}") == 1);
  CHECK(daemons[actor]->metric("etcd_defragd_member_defrags_total{member=\"" + name +
                               "\",result=\"skipped\"}") == 1);
  for (const auto& d : daemons) {
    const auto samples = metric_samples(d->metrics(), "etcd_defragd_member_disk_free_bytes",
                                        {"member=\"" + name + "\""});
    REQUIRE(samples.size() == 1);
    CHECK(samples[0].value < static_cast<double>(need));
  }
  const double own = daemons[small]->metric("etcd_defragd_data_dir_free_bytes");
  CHECK(own > 0);
  CHECK(own < static_cast<double>(need));

  // /v1/status and `status` show each member's published room: the small one's below the need.
  const auto v1 = parse_json(daemons[actor]->get("/v1/status"));
  bool seen_small = false;
  for (const auto& m : v1.at("members").as_array()) {
    if (m.at("name").as_string() != name) continue;
    seen_small = true;
    CHECK(m.at("diskFreeBytes").to_number<double>() < static_cast<double>(need));
  }
  CHECK(seen_small);
  const auto st = run_edd({"status", "--endpoints", cluster->endpoints_csv(), "-w", "json"});
  REQUIRE(st.exit_code == 0);
  const auto members = parse_json(st.out);
  for (const auto& m : members.as_array()) {
    const auto& o = m.as_object();
    INFO(boost::json::serialize(o));
    REQUIRE(o.at("diskFreeBytes").is_number());
    const auto free = o.at("diskFreeBytes").to_number<double>();
    if (o.at("name").as_string() == name) {
      CHECK(free < static_cast<double>(need));
    } else {
      CHECK(free >= static_cast<double>(need));
    }
  }
}
