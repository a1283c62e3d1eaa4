// A bounded soak (label `soak`): a real 3-member cluster, one `etcd-defragd run` per member, and
// repeated cycles of "fragment the cluster, let the daemons defragment it" for EDD_SOAK_SECONDS
// (default 90 s so the suite stays bounded; the documented long run is EDD_SOAK_SECONDS=600 or
// more). Every cycle checks that exactly one daemon ran, that no two members were ever
// defragmenting at once, that the data did not change and that HashKV agrees; it samples every
// daemon's VmRSS/VmHWM/RssAnon. At the end the resident memory of each daemon must be flat.
//
// Each cycle: the daemons are paused (their kill-switch files), the cluster is fragmented
// (EtcdCluster::write_and_fragment, 16 MiB written twice, nine keys in ten deleted, compacted),
// the sizes and the data digest are read, then the pause files are removed: the next poll (1 s)
// sees the rule true and the lock holder runs. The pause only makes the "before" sizes exact (no
// run can start while the test is still fragmenting); monitoring, lock campaigns and polls go on.
#include <sys/types.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/fault_fixture.h"
#include "support/metrics_text.h"

using namespace edd::test;
using namespace edd::test::faults;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kFragmentBytes = 16LL * 1024 * 1024;
constexpr int kStableKeys = 256;
constexpr std::size_t kStableValueBytes = 1024;

int soak_seconds() {
  const char* env = std::getenv("EDD_SOAK_SECONDS");
  if (env == nullptr || *env == '\0') return 90;
  std::size_t used = 0;
  int seconds = 0;
  try {
    seconds = std::stoi(env, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != std::string(env).size() || seconds <= 0) {
    FAIL("EDD_SOAK_SECONDS must be a whole number of seconds > 0, not \"" << env << "\"");
  }
  return seconds;
}

struct Memory {
  long rss_kib = -1;   // VmRSS
  long hwm_kib = -1;   // VmHWM: the peak RSS since the process started
  long anon_kib = -1;  // RssAnon: the heap, stacks and anonymous maps, the part a leak grows
  long threads = -1;
  long fds = -1;
};

Memory read_memory(pid_t pid) {
  Memory m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (line.starts_with("VmRSS:")) m.rss_kib = std::stol(line.substr(colon + 1));
    if (line.starts_with("VmHWM:")) m.hwm_kib = std::stol(line.substr(colon + 1));
    if (line.starts_with("RssAnon:")) m.anon_kib = std::stol(line.substr(colon + 1));
    if (line.starts_with("Threads:")) m.threads = std::stol(line.substr(colon + 1));
  }
  std::error_code ec;
  m.fds = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    ++m.fds;
  }
  return m;
}

// What one daemon has done so far, from its /metrics and its log.
struct Counters {
  double runs = 0;          // etcd_defragd_runs_total, every trigger and result
  double rule_success = 0;  // etcd_defragd_runs_total{result="success",trigger="rule"}
  double defragmented = 0;  // etcd_defragd_member_defrags_total{result="defragmented"}
  double lock_held = 0;     // etcd_defragd_lock_held
  std::size_t started = 0;  // "starting a run" lines in its log

  bool operator==(const Counters&) const = default;
};

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

Counters read_counters(const DaemonProcess& d) {
  const std::string text = d.get("/metrics");
  INFO("daemon on port " << d.port() << " /metrics:\n" << text);
  REQUIRE(text.find("etcd_defragd_build_info") != std::string::npos);
  Counters c;
  c.runs = metric_sum(text, "etcd_defragd_runs_total");
  c.rule_success = metric_sum(text, "etcd_defragd_runs_total", {R"(result="success")", "rule"});
  c.defragmented =
      metric_sum(text, "etcd_defragd_member_defrags_total", {R"(result="defragmented")"});
  c.lock_held = metric_sum(text, "etcd_defragd_lock_held");
  c.started = count_of(d.log(), "starting a run");
  return c;
}

std::vector<Counters> read_all(const Daemons& daemons) {
  std::vector<Counters> out;
  for (const auto& d : daemons) out.push_back(read_counters(*d));
  return out;
}

double mib(std::int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

std::string sizes_mib(const std::vector<EndpointStatus>& st) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(1);
  for (std::size_t i = 0; i < st.size(); ++i) s << (i ? "/" : "") << mib(st[i].db_size_bytes);
  return s.str();
}

struct DaemonFigures {
  int runs = 0;
  Memory start;  // after the first completed cycle
  Memory end;    // after the last
  long max_rss_kib = 0;
  long max_anon_kib = 0;
  std::vector<Memory> samples;  // after every cycle
};

// Flat means: the end RSS is at most the start RSS (sampled after the first cycle, once gRPC's
// channels and thread pools, glibc's per-thread malloc arenas, the metrics registry's per-member
// series and the lock's lease exist) plus max(4 MiB, 15 %). The slack absorbs what is not a leak:
// glibc keeps freed chunks in its arenas and gives memory back only from the top of a heap, and
// each poll runs its per-member work in short-lived std::async threads, each taking one of up to
// 8 x cores arenas. Measured here (22 MiB VmRSS, 3.5 MiB RssAnon per daemon): between two quota
// probes RssAnon moves by tens of KiB over 40 cycles; every 5 minutes, when the quota probe
// (etcd/metrics_probe.cpp) scrapes each member's ~100 KB /metrics again, all three daemons step
// up at once, by 0.5-0.9 MiB at 5 minutes and 0.05-0.3 MiB at 10 (arenas filling up, it seems:
// the second step is smaller). 4 MiB is ~3x the largest growth seen in 10 minutes, and 15 % only
// matters for a bigger daemon (more members, TLS). A leak does not hide in it for long: 4 MiB over
// a 10-minute soak (~660 polls and scrapes, ~110 runs) is ~6 KiB per poll or ~37 KiB per run; the
// 90 s default (no probe step inside it) catches only gross leaks.
//
// The bound applies to VmRSS and to RssAnon. VmRSS also counts the binary's and the libraries'
// file-backed pages, which the kernel evicts when the host needs page cache (one 10-minute soak
// here saw all three daemons lose ~2.5 MiB of VmRSS at once while builds ran): such a drop could
// hide a leak of the same size. RssAnon (the heap, the stacks, anonymous maps) is what a leak
// grows, and no eviction lowers it (no swap on these hosts).
long bound_kib(long start_kib) { return std::max(4L * 1024, start_kib * 15 / 100); }

}  // namespace

TEST_CASE("soak: fragment -> defrag cycles with three daemons keep their memory flat", "[soak]") {
  const int seconds = soak_seconds();
  // One cycle takes ~6 s on two busy cores (fragmenting, 32 MiB through the JSON gateway, is most
  // of it; the run itself ~1 s): one cycle per 30 s leaves room for a loaded CI host without
  // hiding a stuck daemon.
  const int min_cycles = std::max(3, seconds / 30);
  std::cout << "soak: " << seconds << " s (EDD_SOAK_SECONDS), at least " << min_cycles
            << " cycles expected" << std::endl;

  ScratchDir scratch;
  auto cluster = EtcdCluster::start(scratch.cluster());
  // Data the test never touches again: it must come out of every cycle byte for byte.
  seed_values(*cluster, "/soak/stable/", kStableKeys, kStableValueBytes);

  DaemonSettings settings;
  settings.poll_interval = "1s";
  settings.rule = "dbSizeFree > 8*1024*1024";  // a fragmented cycle leaves ~36 MiB free
  settings.min_interval = "0s";                // no cooldown: every cycle may run
  settings.ttl = "10s";
  Daemons daemons;
  for (int i = 0; i < cluster->size(); ++i) {
    daemons.push_back(std::make_unique<DaemonProcess>(*cluster, i, settings, "-soak"));
  }
  REQUIRE(lock_holder(daemons, 20s) >= 0);

  std::vector<DaemonFigures> figures(daemons.size());
  std::vector<Counters> previous = read_all(daemons);
  for (const auto& c : previous) REQUIRE(c.runs == 0);
  std::size_t puts = 0;
  std::int64_t bytes_written = 0;
  std::vector<double> run_seconds;
  std::vector<std::string> typical;  // "before -> after" of each cycle; the middle one is shown
  DataDigest first_digest;
  int cycles = 0;

  std::cout << "cycle     t_s  actor  run_s  dbSize MiB before (m0/m1/m2) -> after    "
               "RSS/RssAnon KiB d0 d1 d2"
            << std::endl;
  const auto began = std::chrono::steady_clock::now();
  auto elapsed_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  };
  while (cycles == 0 || elapsed_s() < seconds) {
    const int cycle = cycles + 1;
    INFO("cycle " << cycle << " at " << elapsed_s() << " s");

    // 1. Fragment, with every daemon paused.
    for (const auto& d : daemons) std::ofstream(d->pause_file()) << "soak\n";
    const FragmentResult frag = cluster->write_and_fragment(kFragmentBytes, "/frag/", 10);
    puts += static_cast<std::size_t>(2 * frag.keys_written + (frag.keys_written - frag.keys_kept));
    bytes_written += 2 * kFragmentBytes;
    const auto before = cluster->endpoint_status();
    const DataDigest digest = data_digest(*cluster, 0, false);
    if (cycle == 1) first_digest = digest;
    // The fragmenting writes the same keys and values every cycle: the data is the same.
    CHECK(digest == first_digest);
    for (const auto& st : before) {
      INFO(st.endpoint << " before the run: " << st.db_size_bytes << " B, "
                       << st.db_size_in_use_bytes << " in use");
      REQUIRE(st.db_size_bytes - st.db_size_in_use_bytes > 8 * 1024 * 1024);
    }

    // 2. Unpause: one daemon runs, defragmenting the three members one at a time.
    const double t0 = edd::bench::wall_now_s();
    const auto run_began = std::chrono::steady_clock::now();
    for (const auto& d : daemons) std::filesystem::remove(d->pause_file());
    const auto members = wait_defrags_after(*cluster, t0, 3, 90s);
    INFO("members defragmented since the unpause: " << members.size());
    REQUIRE(members.size() == 3);
    REQUIRE(std::set<int>(members.begin(), members.end()).size() == 3);
    std::vector<Counters> now;
    const bool counted = eventually(30s, [&] {
      now = read_all(daemons);
      double runs = 0;
      for (std::size_t i = 0; i < now.size(); ++i) runs += now[i].runs - previous[i].runs;
      return runs >= 1;
    });
    REQUIRE(counted);
    run_seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - run_began).count());

    // 3. Exactly one daemon acted, once, successfully, on all three members; and it holds the
    // lock. Counting from the previous cycle's snapshot also catches a run between cycles.
    int actor = -1;
    int actors = 0;
    for (std::size_t i = 0; i < now.size(); ++i) {
      const double runs = now[i].runs - previous[i].runs;
      INFO("daemon " << i << ": " << runs << " runs, " << now[i].started - previous[i].started
                     << " 'starting a run' lines");
      CHECK((runs == 0 || runs == 1));
      CHECK(static_cast<double>(now[i].started - previous[i].started) == runs);
      if (runs > 0) {
        actor = static_cast<int>(i);
        ++actors;
        CHECK(now[i].rule_success - previous[i].rule_success == 1);
        CHECK(now[i].defragmented - previous[i].defragmented == 3);
        CHECK(now[i].lock_held == 1);
      } else {
        CHECK(now[i].defragmented == previous[i].defragmented);
      }
    }
    REQUIRE(actors == 1);
    ++figures[static_cast<std::size_t>(actor)].runs;

    // 4. Never two members defragmenting at once, over the whole soak so far (REQUIREs inside),
    // and exactly three defrags per cycle.
    const auto intervals = defrag_intervals(*cluster);
    CHECK(intervals.size() == static_cast<std::size_t>(3 * cycle));
    CHECK(started_after(intervals, t0).size() == 3);

    // 5. The sizes went down on every member, the data is intact, HashKV agrees.
    const auto after = cluster->endpoint_status();
    REQUIRE(after.size() == before.size());
    for (std::size_t m = 0; m < after.size(); ++m) {
      INFO(after[m].endpoint << ": " << before[m].db_size_bytes << " B -> "
                             << after[m].db_size_bytes << " B");
      CHECK(after[m].db_size_bytes < before[m].db_size_bytes / 2);
    }
    check_data_intact(*cluster, digest);
    previous = read_all(daemons);  // after the checks: a run meanwhile counts in the next cycle

    // 6. Memory.
    std::ostringstream rss;
    for (std::size_t i = 0; i < daemons.size(); ++i) {
      const Memory m = read_memory(daemons[i]->pid());
      REQUIRE(m.rss_kib > 0);
      REQUIRE(m.anon_kib > 0);
      auto& f = figures[i];
      if (cycle == 1) f.start = m;
      f.end = m;
      f.max_rss_kib = std::max(f.max_rss_kib, m.rss_kib);
      f.max_anon_kib = std::max(f.max_anon_kib, m.anon_kib);
      f.samples.push_back(m);
      rss << (i ? "  " : "") << m.rss_kib << "/" << m.anon_kib;
    }
    cycles = cycle;
    typical.push_back(sizes_mib(before) + " -> " + sizes_mib(after));
    char row[256];
    std::snprintf(row, sizeof row, "%5d %7.1f  d%-4d %5.1f  %-44s %s", cycle, elapsed_s(), actor,
                  run_seconds.back(), typical.back().c_str(), rss.str().c_str());
    std::cout << row << std::endl;
  }
  const double duration = elapsed_s();

  // A few more polls with nothing to do: no run may follow.
  std::this_thread::sleep_for(3s);
  const auto final_counters = read_all(daemons);
  double total_runs = 0;
  for (std::size_t i = 0; i < daemons.size(); ++i) {
    total_runs += final_counters[i].runs;
    CHECK(final_counters[i].runs == figures[i].runs);
  }
  CHECK(total_runs == cycles);
  CHECK(defrag_intervals(*cluster).size() == static_cast<std::size_t>(3 * cycles));

  // Every daemon is alive and healthy at the end.
  for (std::size_t i = 0; i < daemons.size(); ++i) {
    INFO("daemon " << i << " log:\n" << daemons[i]->log());
    CHECK(daemons[i]->running());
    std::string health = daemons[i]->get("/healthz");  // "ok\n" with 200, a reason with 503
    while (!health.empty() && std::isspace(static_cast<unsigned char>(health.back()))) {
      health.pop_back();
    }
    CHECK(health == "ok");
    figures[i].end = read_memory(daemons[i]->pid());
    figures[i].max_rss_kib = std::max(figures[i].max_rss_kib, figures[i].end.rss_kib);
    figures[i].max_anon_kib = std::max(figures[i].max_anon_kib, figures[i].end.anon_kib);
  }

  std::sort(run_seconds.begin(), run_seconds.end());
  std::ostringstream report;
  report << "\nsoak figures: " << std::fixed;
  report.precision(1);
  report << duration << " s, " << cycles << " cycles completed, " << puts
         << " key writes (puts + deletes, " << mib(bytes_written)
         << " MiB of values), run (unpause -> run counted) median "
         << run_seconds[run_seconds.size() / 2] << " s, max " << run_seconds.back() << " s\n";
  report << "typical (middle) cycle dbSize MiB (m0/m1/m2): " << typical[typical.size() / 2] << "\n";
  report << "daemon  runs | VmRSS KiB: start    mid    end    max  growth  bound | RssAnon KiB: "
            "start    mid    end    max  growth  bound | VmHWM KiB start/end | threads | fds\n";
  for (std::size_t i = 0; i < daemons.size(); ++i) {
    const auto& f = figures[i];
    const Memory& mid = f.samples[f.samples.size() / 2];
    char row[320];
    std::snprintf(row, sizeof row,
                  "d%-5zu %5d | %16ld %6ld %6ld %6ld %+7ld %6ld | %18ld %6ld %6ld %6ld %+7ld %6ld "
                  "| %9ld/%-9ld | %3ld/%-3ld | %3ld/%-3ld\n",
                  i, f.runs, f.start.rss_kib, mid.rss_kib, f.end.rss_kib, f.max_rss_kib,
                  f.end.rss_kib - f.start.rss_kib, bound_kib(f.start.rss_kib), f.start.anon_kib,
                  mid.anon_kib, f.end.anon_kib, f.max_anon_kib, f.end.anon_kib - f.start.anon_kib,
                  bound_kib(f.start.anon_kib), f.start.hwm_kib, f.end.hwm_kib, f.start.threads,
                  f.end.threads, f.start.fds, f.end.fds);
    report << row;
  }
  std::cout << report.str() << std::endl;

  CHECK(cycles >= min_cycles);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A sanitizer build's daemons hold freed memory in quarantine (256 MiB for ASan) and shadow
  // memory on top: their RSS grows by design, so it is only printed here. Leaks are
  // LeakSanitizer's job in that build (each daemon is checked at its exit); the RSS bound is
  // checked in a plain build (scripts/build.sh, then ctest -L soak).
  WARN("sanitizer build: RSS printed, not bounded");
  return;
#endif
  for (std::size_t i = 0; i < daemons.size(); ++i) {
    const auto& f = figures[i];
    INFO("daemon " << i << ": VmRSS " << f.start.rss_kib << " KiB after cycle 1, " << f.end.rss_kib
                   << " KiB at the end (bound +" << bound_kib(f.start.rss_kib) << " KiB); RssAnon "
                   << f.start.anon_kib << " -> " << f.end.anon_kib << " KiB (bound +"
                   << bound_kib(f.start.anon_kib) << " KiB)");
    CHECK(f.end.rss_kib <= f.start.rss_kib + bound_kib(f.start.rss_kib));
    CHECK(f.end.anon_kib <= f.start.anon_kib + bound_kib(f.start.anon_kib));
  }
}
