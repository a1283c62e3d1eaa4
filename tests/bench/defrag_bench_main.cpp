// edd_defrag_bench: on one real 3-member etcd cluster under a constant, paced write load, times
// the operators' etcdctl runbook, `etcd-defragd defrag --cluster` and the real `etcd-defrag
// --cluster` (each also with --move-leader), alternated over several rounds, re-fragmenting the
// same data before each, and prints what each costs: wall time, etcd's own defrag and compaction
// times (from the members' logs), the tool's overhead, client stalls and lease keep-alive stalls.
// A benchmark that prints figures, not a test: it never fails on them.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "harness/etcd_cluster.h"
#include "harness/etcd_version.h"
#include "harness/process.h"
#include "load_generator.h"
#include "samples.h"
#include "timed_command.h"

#ifndef EDD_DEFRAGD_BINARY
#define EDD_DEFRAGD_BINARY ""
#endif

namespace edd::bench {
namespace {

using edd::test::EtcdCluster;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string defragd = EDD_DEFRAGD_BINARY;
  std::string etcd_defrag = test::etcd_defrag_binary();
  int rounds = 3;
  double fragment_mb = 440;
  int keep_one_in = 4;
  double puts_per_second_per_member = 200;
  int threads_per_member = 2;
  double baseline_s = 5;
  std::string variants = "a,b,c,e,f";
  std::string csv_dir;
  bool verbose = false;
};

enum class Tool { kRunbook, kDefragd, kEtcdDefrag };

struct Variant {
  char id = 'a';
  std::string title;
  Tool tool = Tool::kRunbook;
  std::vector<std::string> extra;  // flags added to `<tool> --endpoints <first> --cluster`
  bool runbook() const { return tool == Tool::kRunbook; }
};

const std::vector<Variant>& all_variants() {
  static const std::vector<Variant> kVariants = {
      {'a', "runbook: etcdctl compact + defrag x3 + alarm disarm", Tool::kRunbook, {}},
      {'b', "etcd-defragd defrag --cluster", Tool::kDefragd, {}},
      {'c', "etcd-defragd defrag --cluster --move-leader", Tool::kDefragd, {"--move-leader"}},
      {'d',
       "etcd-defragd defrag --cluster --consistency-check=false",
       Tool::kDefragd,
       {"--consistency-check=false"}},
      {'e', "etcd-defrag --cluster", Tool::kEtcdDefrag, {}},
      {'f', "etcd-defrag --cluster --move-leader", Tool::kEtcdDefrag, {"--move-leader"}},
  };
  return kVariants;
}

struct DefragSpan {
  int member = -1;
  Window window;
};

struct MemberFigures {
  int member = -1;
  std::string role;
  double defrag_s = 0;
  LatencyStats own;        // this member's clients during its defrag
  LatencyStats others;     // the other members' clients during its defrag
  LatencyStats keepalive;  // keep-alives (through a follower) during its defrag
};

struct Step {
  std::string what;
  double ms = 0;
};

struct VariantResult {
  Variant variant;
  std::string failure;  // non-empty when the variant's command failed
  int exit_code = 0;
  std::vector<TimedLine> tool_output;  // (b)-(d): etcd-defragd's lines, timestamped
  double fragment_s = 0;
  std::vector<test::EndpointStatus> before, after;
  int leader_before = -1;
  int leader_after = -1;
  int keepalive_member = -1;
  Window baseline;
  Window run;
  double wall_s = 0;
  std::vector<Step> steps;  // (a) only
  std::vector<DefragSpan> spans;
  double defrag_sum_s = 0;
  double compaction_s = 0;  // the longest member's compaction in the run (etcd's log, "took")
  std::vector<MemberFigures> members;
  LatencyStats baseline_puts, baseline_keepalive;
  LatencyStats run_puts;  // every put in flight during the run
  std::size_t failed_puts = 0, failed_keepalives = 0;
  std::vector<std::string> first_errors;
};

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}
std::string ms(double v) { return fmt("%.1f", v); }
std::string sec(double v) { return fmt("%.3f", v); }
std::string mb(std::int64_t bytes) { return fmt("%.1f MB", static_cast<double>(bytes) / 1e6); }

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

int member_of(const EtcdCluster& cluster, const std::string& endpoint) {
  for (int i = 0; i < cluster.size(); ++i) {
    if (cluster.client_endpoint(i) == endpoint) return i;
  }
  return -1;
}

int leader_of(const EtcdCluster& cluster, const std::vector<test::EndpointStatus>& statuses) {
  for (const auto& s : statuses) {
    if (s.is_leader()) return member_of(cluster, s.endpoint);
  }
  return -1;
}

void sleep_s(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// The operators' runbook, as fast as a script runs it: no sleeps between the commands.
void run_runbook(EtcdCluster& cluster, VariantResult& r) {
  auto timed = [&r](const std::string& what, const auto& action) {
    const auto t0 = SteadyClock::now();
    action();
    r.steps.push_back(
        {what, std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count()});
  };
  std::vector<test::EndpointStatus> statuses;
  // EtcdCluster::endpoint_status is `etcdctl endpoint status -w json`, parsed.
  timed("endpoint status", [&] { statuses = cluster.endpoint_status(); });
  int leader = leader_of(cluster, statuses);
  std::int64_t revision = 0;
  for (const auto& s : statuses) revision = std::max(revision, s.revision);
  if (leader < 0) throw std::runtime_error("runbook: no member reports itself as the leader");
  timed("compact", [&] {
    cluster.etcdctl_ok({"compact", std::to_string(revision), "--physical"});
  });
  std::vector<int> order;
  for (int i = 0; i < cluster.size(); ++i) {
    if (i != leader) order.push_back(i);
  }
  order.push_back(leader);
  for (int i : order) {
    timed("defrag " + cluster.member_name(i) + (i == leader ? " (leader)" : ""), [&] {
      cluster.etcdctl_ok({"defrag", "--command-timeout=5m"}, cluster.client_endpoint(i));
    });
  }
  timed("alarm disarm", [&] { cluster.etcdctl_ok({"alarm", "disarm"}); });
}

// etcd-defragd and etcd-defrag get the same command line: one endpoint and --cluster.
void run_tool(const Options& options, EtcdCluster& cluster, VariantResult& r) {
  std::vector<std::string> argv;
  if (r.variant.tool == Tool::kDefragd) {
    argv = {options.defragd, "defrag"};
  } else {
    argv = {options.etcd_defrag};
  }
  argv.insert(argv.end(), {"--endpoints", cluster.client_endpoint(0), "--cluster"});
  argv.insert(argv.end(), r.variant.extra.begin(), r.variant.extra.end());
  TimedResult result = run_timed(argv, std::chrono::minutes(10));
  r.exit_code = result.exit_code;
  r.tool_output = std::move(result.lines);
  if (result.exit_code != 0) {
    r.failure = argv.front() + " exited with " + std::to_string(result.exit_code);
  }
}

// A Go duration as zap writes it ("812.3ms", "1.2s", "950µs"); 0 for anything else.
double go_duration_s(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return 0;
  }
  const std::string unit = text.substr(used);
  if (unit == "s") return value;
  if (unit == "ms") return value / 1e3;
  if (unit == "µs" || unit == "us") return value / 1e6;
  if (unit == "ns") return value / 1e9;
  if (unit.starts_with("m")) return value * 60;  // "1m2.5s": rare for a compaction here
  return 0;
}

// The longest "finished scheduled compaction" of any member that ended inside the window.
double compaction_in(const EtcdCluster& cluster, const Window& run) {
  double longest = 0;
  for (int i = 0; i < cluster.size(); ++i) {
    std::ifstream in(cluster.log_path(i));
    for (std::string line; std::getline(in, line);) {
      if (line.find("finished scheduled compaction") == std::string::npos) continue;
      boost::system::error_code ec;
      const auto v = boost::json::parse(line, ec);
      if (ec || !v.is_object()) continue;
      const auto& o = v.as_object();
      const auto* ts = o.if_contains("ts");
      const auto* took = o.if_contains("took");
      if (ts == nullptr || took == nullptr || !ts->is_string() || !took->is_string()) continue;
      const double end_s = test::parse_zap_ts(std::string(ts->as_string()));
      if (end_s < run.begin_s - 0.005 || end_s > run.end_s + 0.005) continue;
      longest = std::max(longest, go_duration_s(std::string(took->as_string())));
    }
  }
  return longest;
}

std::vector<DefragSpan> spans_in(const std::vector<test::DefragEvent>& events, const Window& run) {
  // etcd's log has millisecond resolution: allow a few ms around the run.
  const Window around{run.begin_s - 0.005, run.end_s + 0.005};
  std::map<int, double> started;
  std::vector<DefragSpan> spans;
  for (const auto& e : events) {
    if (e.ts < around.begin_s || e.ts > around.end_s) continue;
    if (e.msg == "starting defragment") {
      started[e.member] = e.ts;
    } else if (auto it = started.find(e.member); it != started.end()) {
      spans.push_back({e.member, {it->second, e.ts}});
      started.erase(it);
    }
  }
  std::sort(spans.begin(), spans.end(), [](const DefragSpan& a, const DefragSpan& b) {
    return a.window.begin_s < b.window.begin_s;
  });
  return spans;
}

void write_csv(const std::string& path, const std::vector<Sample>& samples) {
  std::ofstream out(path);
  out << "start_s,latency_ms,member,ok\n";
  out.setf(std::ios::fixed);
  for (const auto& s : samples) {
    out.precision(6);
    out << s.start_s << ",";
    out.precision(3);
    out << s.latency_ms << "," << s.member << "," << (s.ok ? 1 : 0) << "\n";
  }
}

VariantResult run_variant(const Options& options, EtcdCluster& cluster, const PutLoad& load,
                          const Variant& variant) {
  VariantResult r;
  r.variant = variant;
  std::cout << "\n=== (" << variant.id << ") " << variant.title << " ===" << std::endl;

  // The same keys every time: each round leaves the same live data and fresh garbage.
  const auto f0 = SteadyClock::now();
  cluster.write_and_fragment(static_cast<std::int64_t>(options.fragment_mb * 1e6), "/frag/",
                             options.keep_one_in);
  r.fragment_s = std::chrono::duration<double>(SteadyClock::now() - f0).count();
  r.before = cluster.endpoint_status();
  r.leader_before = leader_of(cluster, r.before);
  std::cout << "fragmented in " << fmt("%.1f", r.fragment_s) << " s; before:";
  for (const auto& s : r.before) {
    const int m = member_of(cluster, s.endpoint);
    std::cout << " m" << m << (m == r.leader_before ? "(leader)" : "") << " dbSize "
              << mb(s.db_size_bytes) << " inUse " << mb(s.db_size_in_use_bytes) << ";";
  }
  std::cout << std::endl;

  // Keep-alives through a follower: etcd answers them on the leader only.
  r.keepalive_member = r.leader_before == 0 ? 1 : 0;
  KeepAliveProbe probe(cluster.client_endpoint(r.keepalive_member), r.keepalive_member,
                       std::chrono::milliseconds(50), 30);
  probe.start();
  sleep_s(1.0);
  r.baseline.begin_s = wall_now_s();
  sleep_s(options.baseline_s);
  r.baseline.end_s = wall_now_s();

  r.run.begin_s = wall_now_s();
  const auto t0 = SteadyClock::now();
  try {
    if (variant.runbook()) {
      run_runbook(cluster, r);
    } else {
      run_tool(options, cluster, r);
    }
  } catch (const std::exception& e) {
    r.failure = e.what();
  }
  r.wall_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  r.run.end_s = wall_now_s();
  sleep_s(2.0);  // let calls stalled by the last defrag come back
  probe.stop();

  r.after = cluster.endpoint_status();
  r.leader_after = leader_of(cluster, r.after);
  r.spans = spans_in(cluster.defrag_events(), r.run);
  r.compaction_s = compaction_in(cluster, r.run);

  const std::vector<Sample> puts = load.samples();
  const std::vector<Sample> keepalives = probe.samples();
  r.baseline_puts = stats_in(started_in(puts, r.baseline), r.baseline);
  r.baseline_keepalive = stats_in(started_in(keepalives, r.baseline), r.baseline);
  r.run_puts = stats_in(puts, r.run);
  for (const auto& span : r.spans) {
    MemberFigures f;
    f.member = span.member;
    f.role = span.member == r.leader_before
                 ? (r.leader_after != r.leader_before ? "old leader" : "leader")
                 : (span.member == r.keepalive_member ? "follower,KA" : "follower");
    f.defrag_s = span.window.seconds();
    r.defrag_sum_s += f.defrag_s;
    const int m = span.member;
    f.own = stats_in(puts, span.window, [m](const Sample& s) { return s.member == m; });
    f.others = stats_in(puts, span.window, [m](const Sample& s) { return s.member != m; });
    f.keepalive = stats_in(keepalives, span.window);
    r.members.push_back(f);
  }
  // Failures from the start of the baseline to the end of the tail.
  const Window measured{r.baseline.begin_s, r.run.end_s + 2.0};
  for (const auto& s : started_in(puts, measured)) r.failed_puts += s.ok ? 0 : 1;
  for (const auto& s : started_in(keepalives, measured)) r.failed_keepalives += s.ok ? 0 : 1;
  std::vector<ErrorNote> errors = load.errors();
  const auto probe_errors = probe.errors();
  errors.insert(errors.end(), probe_errors.begin(), probe_errors.end());
  std::sort(errors.begin(), errors.end(),
            [](const ErrorNote& a, const ErrorNote& b) { return a.at_s < b.at_s; });
  for (const auto& e : errors) {
    if (e.at_s < measured.begin_s || e.at_s > measured.end_s) continue;
    if (r.first_errors.size() == 3) break;
    r.first_errors.push_back("m" + std::to_string(e.member) + " +" + sec(e.at_s - r.run.begin_s) +
                             " s: " + e.message);
  }

  if (!options.csv_dir.empty()) {
    const std::string base = options.csv_dir + "/" + std::string(1, variant.id);
    write_csv(base + "-puts.csv", started_in(puts, measured));
    write_csv(base + "-keepalive.csv", started_in(keepalives, measured));
    std::ofstream defrags(base + "-defrags.csv");
    defrags << "member,start_s,finish_s\n";
    defrags.setf(std::ios::fixed);
    defrags.precision(3);
    for (const auto& s : r.spans) {
      defrags << s.member << "," << s.window.begin_s << "," << s.window.end_s << "\n";
    }
    std::ofstream tool(base + "-tool-output.txt");
    for (const auto& line : r.tool_output)
      tool << fmt("%8.1f ms  ", line.at_ms) << line.text << "\n";
  }
  return r;
}

void print_variant(const Options& options, const EtcdCluster& cluster, const VariantResult& r) {
  const double overhead = r.wall_s - r.defrag_sum_s - r.compaction_s;
  std::cout << "baseline (" << fmt("%.0f", options.baseline_s)
            << " s before the run): puts n=" << r.baseline_puts.count << " max "
            << ms(r.baseline_puts.max_ms) << " ms p99 " << ms(r.baseline_puts.p99_ms)
            << " ms; keep-alive (via m" << r.keepalive_member
            << ") n=" << r.baseline_keepalive.count << " max " << ms(r.baseline_keepalive.max_ms)
            << " ms p99 " << ms(r.baseline_keepalive.p99_ms) << " ms\n";
  std::cout << "wall " << sec(r.wall_s) << " s; etcd's defrags (log) " << sec(r.defrag_sum_s)
            << " s; compaction (log) " << sec(r.compaction_s)
            << " s; overhead (wall - defrags - compaction) " << sec(overhead) << " s";
  if (!r.variant.runbook()) std::cout << "; exit " << r.exit_code;
  std::cout << "\n";
  if (!r.failure.empty()) std::cout << "FAILED: " << r.failure << "\n";
  if (!r.steps.empty()) {
    std::vector<std::string> parts;
    for (const auto& s : r.steps) parts.push_back(s.what + " " + fmt("%.0f", s.ms) + " ms");
    std::cout << "steps: " << join(parts, ", ") << "\n";
  }
  if (!r.spans.empty()) {
    std::vector<std::string> gaps;
    for (std::size_t i = 1; i < r.spans.size(); ++i) {
      gaps.push_back(sec(r.spans[i].window.begin_s - r.spans[i - 1].window.end_s));
    }
    std::cout << "where the overhead goes: before the first defrag "
              << sec(r.spans.front().window.begin_s - r.run.begin_s) << " s; between defrags "
              << (gaps.empty() ? "-" : join(gaps, " s, ") + " s") << "; after the last defrag "
              << sec(r.run.end_s - r.spans.back().window.end_s) << " s\n";
  }
  std::cout << "member  role         defrag s  own clients max ms  others' clients max/p99 ms  "
               "keep-alive max ms\n";
  for (const auto& f : r.members) {
    char line[160];
    const std::string others = ms(f.others.max_ms) + " / " + ms(f.others.p99_ms);
    std::snprintf(line, sizeof line, "m%-6d %-12s %8.3f  %18.1f  %26s  %17.1f\n", f.member,
                  f.role.c_str(), f.defrag_s, f.own.max_ms, others.c_str(), f.keepalive.max_ms);
    std::cout << line;
  }
  std::cout << "(KA: the follower the keep-alives go through; windows are etcd's logged "
               "\"starting defragment\" .. \"finished defragment\")\n";
  std::cout << "all puts in flight during the run: n=" << r.run_puts.count << " max "
            << ms(r.run_puts.max_ms) << " ms p99 " << ms(r.run_puts.p99_ms) << " ms\n";
  std::cout << "failed calls (baseline to 2 s after the run): puts " << r.failed_puts
            << ", keep-alives " << r.failed_keepalives << "\n";
  for (const auto& e : r.first_errors) std::cout << "  " << e << "\n";
  std::cout << "after: leader m" << r.leader_after << ";";
  for (const auto& s : r.after) {
    std::cout << " m" << member_of(cluster, s.endpoint) << " dbSize " << mb(s.db_size_bytes) << ";";
  }
  std::cout << "\n";
  if (!r.variant.runbook()) {
    // Progress lines with the time each arrived: where our own time goes. The summary table at
    // the end is printed only with --verbose or on failure.
    const bool all = options.verbose || r.exit_code != 0;
    std::cout << "the tool's progress (ms since start):\n";
    for (const auto& line : r.tool_output) {
      const bool table = line.text.starts_with("+-") || line.text.starts_with("|");
      if (table && !all) continue;
      std::string text = line.text;
      if (!all && text.size() > 110) text = text.substr(0, 107) + "...";
      std::cout << fmt("%8.1f  ", line.at_ms) << text << "\n";
    }
  }
  std::cout << std::flush;
}

struct Summary {
  double own_max_ms = 0;
  double others_max_ms = 0;
  double keepalive_leader_ms = 0;
  double keepalive_follower_ms = 0;  // the follower the keep-alives do not go through
  double keepalive_own_ms = 0;       // the follower they go through: blocked itself
};

Summary summarise(const VariantResult& r) {
  Summary s;
  for (const auto& f : r.members) {
    s.own_max_ms = std::max(s.own_max_ms, f.own.max_ms);
    s.others_max_ms = std::max(s.others_max_ms, f.others.max_ms);
    double& keepalive = f.member == r.leader_before      ? s.keepalive_leader_ms
                        : f.member == r.keepalive_member ? s.keepalive_own_ms
                                                         : s.keepalive_follower_ms;
    keepalive = std::max(keepalive, f.keepalive.max_ms);
  }
  return s;
}

std::string met(bool ok) { return ok ? "MET" : "NOT MET"; }

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// One variant over every round: medians of the times, worst stalls, every failure.
struct Aggregate {
  Variant variant;
  int rounds = 0, failed_rounds = 0;
  std::size_t min_members = 3, max_members = 0;
  double wall_s = 0, defrag_s = 0, compaction_s = 0, overhead_s = 0;
  double others_max_ms = 0, keepalive_leader_ms = 0, keepalive_follower_ms = 0;
  std::size_t failed_puts = 0, failed_keepalives = 0;
};

std::vector<Aggregate> aggregate(const std::vector<VariantResult>& results) {
  std::vector<Aggregate> out;
  for (const auto& v : all_variants()) {
    Aggregate a;
    a.variant = v;
    std::vector<double> wall, defrag, compaction, overhead;
    for (const auto& r : results) {
      if (r.variant.id != v.id) continue;
      ++a.rounds;
      a.failed_rounds += r.failure.empty() ? 0 : 1;
      a.min_members = std::min(a.min_members, r.spans.size());
      a.max_members = std::max(a.max_members, r.spans.size());
      wall.push_back(r.wall_s);
      defrag.push_back(r.defrag_sum_s);
      compaction.push_back(r.compaction_s);
      overhead.push_back(r.wall_s - r.defrag_sum_s - r.compaction_s);
      const Summary s = summarise(r);
      a.others_max_ms = std::max(a.others_max_ms, s.others_max_ms);
      a.keepalive_leader_ms = std::max(a.keepalive_leader_ms, s.keepalive_leader_ms);
      a.keepalive_follower_ms = std::max(a.keepalive_follower_ms, s.keepalive_follower_ms);
      a.failed_puts += r.failed_puts;
      a.failed_keepalives += r.failed_keepalives;
    }
    if (a.rounds == 0) continue;
    a.wall_s = median(wall);
    a.defrag_s = median(defrag);
    a.compaction_s = median(compaction);
    a.overhead_s = median(overhead);
    out.push_back(a);
  }
  return out;
}

void print_summary(const std::vector<VariantResult>& results) {
  const auto aggregates = aggregate(results);
  std::cout << "\n=== summary: medians over the rounds; stalls and failures over all of them ===\n";
  std::cout << "| variant | rounds | wall s | etcd defrags s | compaction s | overhead s | "
               "overhead per member ms | failed writes | other members' max stall ms | "
               "keep-alive max, leader's defrag ms |\n";
  std::cout << "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& a : aggregates) {
    std::cout << "| (" << a.variant.id << ") " << a.variant.title << " | " << a.rounds
              << (a.failed_rounds > 0 ? " (" + std::to_string(a.failed_rounds) + " FAILED)" : "")
              << (a.min_members != 3 || a.max_members != 3
                      ? " (" + std::to_string(a.min_members) + "-" + std::to_string(a.max_members) +
                            " members)"
                      : "")
              << " | " << sec(a.wall_s) << " | " << sec(a.defrag_s) << " | " << sec(a.compaction_s)
              << " | " << sec(a.overhead_s) << " | " << fmt("%.0f", a.overhead_s * 1000 / 3)
              << " | " << a.failed_puts << " / " << a.failed_keepalives << " | "
              << ms(a.others_max_ms) << " | " << ms(a.keepalive_leader_ms) << " |\n";
  }
  const Aggregate* ours = nullptr;
  const Aggregate* theirs = nullptr;
  for (const auto& a : aggregates) {
    if (a.variant.id == 'b') ours = &a;
    if (a.variant.id == 'e') theirs = &a;
  }
  std::cout << "\ntargets:\n";
  if (ours != nullptr && theirs != nullptr) {
    std::cout << "  (b) overhead <= (e) etcd-defrag's: " << sec(ours->overhead_s) << " s vs "
              << sec(theirs->overhead_s) << " s: " << met(ours->overhead_s <= theirs->overhead_s)
              << "\n";
  }
  if (ours != nullptr) {
    const double per_member_ms = ours->overhead_s * 1000 / 3;
    std::cout << "  (b) overhead <= 100 ms per member: " << fmt("%.0f", per_member_ms)
              << " ms: " << met(per_member_ms <= 100) << "\n";
    std::cout << "  (b) no failed write: " << ours->failed_puts
              << " failed: " << met(ours->failed_puts == 0 && ours->failed_rounds == 0) << "\n";
  }
  std::cout << "(overhead = wall - etcd's own defrag times - the longest member's compaction, "
               "both from etcd's logs: what the tool adds around etcd's work)\n";
}

int run(const Options& options) {
  std::vector<Variant> variants;
  for (const auto& v : all_variants()) {
    if (options.variants.find(v.id) != std::string::npos) variants.push_back(v);
  }
  if (variants.empty()) throw std::invalid_argument("--variants: none of a, b, c, d, e, f");
  bool needs_defragd = false;
  bool needs_etcd_defrag = false;
  for (const auto& v : variants) {
    needs_defragd = needs_defragd || v.tool == Tool::kDefragd;
    needs_etcd_defrag = needs_etcd_defrag || v.tool == Tool::kEtcdDefrag;
  }
  if (needs_defragd && ::access(options.defragd.c_str(), X_OK) != 0) {
    throw std::invalid_argument("--defragd: " + options.defragd +
                                " is not an executable file; build etcd-defragd first");
  }
  if (needs_etcd_defrag && ::access(options.etcd_defrag.c_str(), X_OK) != 0) {
    throw std::invalid_argument("--etcd-defrag: '" + options.etcd_defrag +
                                "' is not an executable file; install etcd-defrag "
                                "(scripts/install-etcd-versions.sh) or leave out variants e, f");
  }
  if (options.rounds < 1) throw std::invalid_argument("--rounds: at least 1");
  if (!options.csv_dir.empty()) std::filesystem::create_directories(options.csv_dir);

  test::ClusterOptions cluster_options;
  cluster_options.members = 3;
  cluster_options.quota_backend_bytes = std::int64_t{2} * 1024 * 1024 * 1024;
  cluster_options.name = "bench";
  std::cout << "starting a 3-member etcd cluster (quota 2 GiB)..." << std::endl;
  auto cluster = EtcdCluster::start(cluster_options);
  std::cout << "cluster: " << cluster->endpoints_csv() << " in " << cluster->dir() << "\n";

  PutLoadOptions load_options;
  load_options.endpoints = cluster->client_endpoints();
  load_options.threads_per_member = options.threads_per_member;
  load_options.puts_per_second_per_member = options.puts_per_second_per_member;
  PutLoad load(load_options);
  load.start();
  std::cout << "load: " << options.threads_per_member << " threads per member, "
            << fmt("%.0f", options.puts_per_second_per_member)
            << " puts/s per member (100-byte values under /load/), running for the whole run; "
               "keep-alive every 50 ms through a follower. Fragmenting "
            << fmt("%.0f", options.fragment_mb) << " MB written twice, keeping 1 key in "
            << options.keep_one_in << ", before each variant." << std::endl;

  // Alternated, so a slow spell of the host (or of etcd) is shared by every variant.
  std::vector<VariantResult> results;
  for (int round = 1; round <= options.rounds; ++round) {
    std::cout << "\n##### round " << round << " of " << options.rounds << std::endl;
    for (const auto& v : variants) {
      results.push_back(run_variant(options, *cluster, load, v));
      print_variant(options, *cluster, results.back());
    }
  }
  load.stop();
  print_summary(results);
  std::cout << std::flush;
  return 0;
}

}  // namespace
}  // namespace edd::bench

int main(int argc, char** argv) {
  edd::bench::Options options;
  CLI::App app{
      "etcd-defragd benchmark: the etcdctl runbook, etcd-defragd and etcd-defrag on a loaded "
      "3-member etcd cluster (EDD_ETCD_VERSION, default 3.6)"};
  app.add_option("--defragd", options.defragd, "path of the etcd-defragd binary")
      ->capture_default_str();
  app.add_option("--etcd-defrag", options.etcd_defrag, "path of the etcd-defrag binary")
      ->capture_default_str();
  app.add_option("--rounds", options.rounds, "rounds; each runs every variant once")
      ->capture_default_str();
  app.add_option("--fragment-mb", options.fragment_mb,
                 "MB written (twice) before each variant; 1 key in --keep-one-in stays live")
      ->capture_default_str();
  app.add_option("--keep-one-in", options.keep_one_in, "keep one key in N")->capture_default_str();
  app.add_option("--puts-per-second", options.puts_per_second_per_member,
                 "paced puts per second per member")
      ->capture_default_str();
  app.add_option("--threads-per-member", options.threads_per_member, "client threads per member")
      ->capture_default_str();
  app.add_option("--baseline-seconds", options.baseline_s, "baseline window before each variant")
      ->capture_default_str();
  app.add_option("--variants", options.variants, "which variants to run, e.g. a,b")
      ->capture_default_str();
  app.add_option("--csv-dir", options.csv_dir, "write every sample and defrag window as CSV here");
  app.add_flag("--verbose", options.verbose, "print etcd-defragd's output");
  CLI11_PARSE(app, argc, argv);
  try {
    return edd::bench::run(options);
  } catch (const std::exception& e) {
    std::cerr << "edd_defrag_bench: " << e.what() << "\n";
    return 1;
  }
}
