// The differential test's machinery: one command line through the real etcd-defrag and through
// `etcd-defragd defrag`, each on the same cluster prepared the same way (same data, same leader),
// and what a user sees afterwards: exit code, the members etcd's own logs say were defragmented
// and in what order, whether the revisions before the run were compacted away, the alarm kinds
// still raised and whether leadership moved. Not thread-safe: one test thread uses it.
#pragma once

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/etcd_cluster.h"
#include "harness/etcd_version.h"
#include "harness/process.h"
#include "support/cluster_checks.h"
#include "support/edd_cli.h"

namespace edd::test::compat {

using namespace std::chrono_literals;

inline constexpr char kSkipLine[] =
    "SKIPPED: etcd-defrag is not installed (the Go module proxy refuses "
    "github.com/ahrtr/etcd-defrag); set EDD_ETCD_DEFRAG to a binary to run the compat tests";

// Prints the one line ctest's SKIP_REGULAR_EXPRESSION turns into "skipped" when the reference
// binary is missing. Use as: if (!etcd_defrag_installed()) return;
inline bool etcd_defrag_installed() {
  if (!etcd_defrag_binary().empty()) return true;
  std::cout << kSkipLine << std::endl;
  return false;
}

enum class Tool { kTheirs, kOurs };

inline const char* tool_name(Tool t) {
  return t == Tool::kTheirs ? "etcd-defrag" : "etcd-defragd defrag";
}

// The same argv and environment through either tool.
inline CommandResult run_tool(Tool tool, const std::vector<std::string>& args,
                              const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv;
  if (tool == Tool::kTheirs) {
    argv.push_back(etcd_defrag_binary());
  } else {
    argv = {EDD_BINARY, "defrag"};
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, std::chrono::seconds(180), env);
}

// What a user checks after a run.
struct Seen {
  int exit_code = -1;
  std::vector<int> order;        // members defragmented, in etcd's log order
  bool compacted = false;        // revisions from before the run are gone
  std::set<std::string> alarms;  // alarm kinds still raised ("NOSPACE", "CORRUPT")
  bool leader_moved = false;     // the leader differs from the one before the run
  std::string transcript;        // stdout and stderr, shown only when a check fails
};

inline std::string describe(const Seen& s) {
  std::ostringstream o;
  o << "exit " << s.exit_code << ", order [";
  for (std::size_t i = 0; i < s.order.size(); ++i) o << (i ? " " : "") << "m" << s.order[i];
  o << "], compacted " << (s.compacted ? "yes" : "no") << ", alarms {";
  bool first = true;
  for (const auto& a : s.alarms) {
    o << (first ? "" : " ") << a;
    first = false;
  }
  o << "}, leader " << (s.leader_moved ? "moved" : "kept");
  return o.str();
}

// The cluster's roles when a case starts: the leader and the two followers in the order
// etcd-defrag's --cluster sorts them (by client URL, as a string).
struct Roles {
  int leader = -1;
  int f1 = -1;
  int f2 = -1;
};

// Who leads, and every running member's ID, from one `etcdctl endpoint status` over the running
// members (a stopped one is skipped).
struct Leadership {
  int leader = -1;
  std::map<int, std::uint64_t> ids;
};

inline Leadership leadership(const EtcdCluster& c) {
  std::vector<int> running;
  std::string csv;
  for (int i = 0; i < c.size(); ++i) {
    if (c.pid(i) == 0) continue;
    running.push_back(i);
    csv += (csv.empty() ? "" : ",") + c.client_endpoint(i);
  }
  const auto st = c.endpoint_status(csv);
  REQUIRE(st.size() == running.size());
  Leadership l;
  for (std::size_t k = 0; k < st.size(); ++k) {
    l.ids[running[k]] = st[k].member_id;
    if (st[k].is_leader()) l.leader = running[k];
  }
  return l;
}

inline int running_leader(const EtcdCluster& c) { return leadership(c).leader; }

// A member's client URL as MemberList (and so etcd-defrag's --cluster) spells it.
inline std::string url(const EtcdCluster& c, int i) {
  const std::string ep = c.client_endpoint(i);
  return ep.find("://") == std::string::npos ? "http://" + ep : ep;
}

inline Roles roles_of(const EtcdCluster& c) {
  Roles r;
  r.leader = running_leader(c);
  REQUIRE(r.leader >= 0);
  std::vector<int> followers;
  for (int i = 0; i < c.size(); ++i) {
    if (i != r.leader) followers.push_back(i);
  }
  std::sort(followers.begin(), followers.end(),
            [&](int a, int b) { return url(c, a) < url(c, b); });
  r.f1 = followers.at(0);
  r.f2 = followers.at(1);
  return r;
}

inline std::set<std::string> alarm_kinds(const EtcdCluster& c) {
  std::set<std::string> kinds;
  std::istringstream in(c.etcdctl_ok({"alarm", "list"}));
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find("alarm:");
    if (at == std::string::npos) continue;
    std::string kind = line.substr(at + 6);
    while (!kind.empty() && std::isspace(static_cast<unsigned char>(kind.back()))) kind.pop_back();
    kinds.insert(kind);
  }
  return kinds;
}

// Puts key twice; returns the first put's revision, which a compaction to the current revision
// makes unreadable.
// Empty when the cluster refuses writes (NOSPACE).
inline std::optional<std::int64_t> put_marker(const EtcdCluster& c) {
  auto revision = [&](const char* value) -> std::optional<std::int64_t> {
    const CommandResult r = c.etcdctl({"put", "/compat/marker", value, "-w", "json"});
    if (r.exit_code != 0) return std::nullopt;
    return parse_json(r.out).at("header").at("revision").to_number<std::int64_t>();
  };
  const auto rev = revision("before");
  if (!rev || !revision("current")) return std::nullopt;
  return rev;
}

// Moves leadership back to member `leader` if it moved.
inline void restore_leader(EtcdCluster& c, int leader) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    const Leadership now = leadership(c);
    if (now.leader == leader) return;
    if (now.leader >= 0) {
      c.etcdctl({"move-leader", hex(now.ids.at(leader))}, c.client_endpoint(now.leader));
    }
    std::this_thread::sleep_for(500ms);
  }
  REQUIRE(running_leader(c) == leader);
}

// Every member running, healthy, no alarm, the leader where it was: the state each run starts
// from unless the case prepares another. `after` is what the run left.
inline void restore(EtcdCluster& c, int leader, const Seen& after) {
  bool restarted = false;
  for (int i = 0; i < c.size(); ++i) {
    if (c.pid(i) == 0) {
      c.start_member(i);
      restarted = true;
    }
  }
  if (restarted) c.wait_healthy(30s);
  if (!after.alarms.empty()) c.etcdctl_ok({"alarm", "disarm"});
  if (after.leader_moved || restarted) restore_leader(c, leader);
}

struct Case {
  std::string name;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  // What the real etcd-defrag does here: the test's premise, checked, so a setup that makes
  // both tools do nothing cannot pass unnoticed.
  Seen theirs;
  // Only for a difference listed in README's "Drop-in: what differs from etcd-defrag, and why";
  // unset: ours must be exactly what etcd-defrag did.
  std::optional<Seen> ours;
  std::string why;  // the README line's gist, for the report
  // Run before each tool (after the marker), e.g. stop a member, fill to NOSPACE.
  std::function<void(EtcdCluster&)> prepare;
  // Arguments that depend on the prepared cluster (appended to args), e.g. a member's size.
  std::function<std::vector<std::string>(EtcdCluster&)> more_args;
  // Run on this thread while the tool runs (with the number of defrag events before it).
  std::function<void(EtcdCluster&, std::size_t)> during;
};

// Runs one tool on the prepared cluster and reads what the user would see.
inline Seen observe(EtcdCluster& c, Tool tool, const Case& k, int leader) {
  // The marker goes after the preparation (which may compact, as write_and_fragment does),
  // or before it when the preparation leaves the cluster refusing writes.
  std::optional<std::int64_t> marker = put_marker(c);
  REQUIRE(marker);
  if (k.prepare) {
    k.prepare(c);
    if (const auto after = put_marker(c)) marker = after;
  }
  std::vector<std::string> args = k.args;
  if (k.more_args) {
    const auto more = k.more_args(c);
    args.insert(args.end(), more.begin(), more.end());
  }
  REQUIRE(running_leader(c) == leader);
  const std::size_t before = c.defrag_events().size();
  const auto t0 = std::chrono::steady_clock::now();
  CommandResult r;
  if (k.during) {
    auto fut = std::async(std::launch::async, [&] { return run_tool(tool, args, k.env); });
    k.during(c, before);
    r = fut.get();
  } else {
    r = run_tool(tool, args, k.env);
  }
  const auto ran_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  Seen s;
  s.exit_code = r.exit_code;
  // One member at a time: each "starting" is followed by the same member's "finished".
  const auto events = c.defrag_events();
  for (std::size_t i = before; i < events.size(); i += 2) {
    INFO(tool_name(tool) << ": defrag event " << i << ": m" << events[i].member << " "
                         << events[i].msg);
    REQUIRE(events[i].msg == "starting defragment");
    REQUIRE(i + 1 < events.size());
    REQUIRE(events[i + 1].msg == "finished defragment");
    REQUIRE(events[i + 1].member == events[i].member);
    s.order.push_back(events[i].member);
  }
  s.compacted = !revision_readable(c, "/compat/marker", *marker);
  s.alarms = alarm_kinds(c);
  s.leader_moved = running_leader(c) != leader;
  s.transcript = r.out + r.err;
  std::cout << "compat: " << k.name << ": " << tool_name(tool) << ": " << describe(s) << " ("
            << ran_ms << " ms)" << std::endl;
  restore(c, leader, s);
  return s;
}

// Both tools, one after the other on the same cluster, compared.
inline void run_case(EtcdCluster& c, const Case& k, int leader) {
  INFO("case: " << k.name);
  const Seen theirs = observe(c, Tool::kTheirs, k, leader);
  const Seen ours = observe(c, Tool::kOurs, k, leader);
  INFO("etcd-defrag:         " << describe(theirs) << "\n" << theirs.transcript);
  INFO("etcd-defragd defrag: " << describe(ours) << "\n" << ours.transcript);
  CHECK(describe(theirs) == describe(k.theirs));
  if (k.ours) {
    INFO("deliberate difference (README): " << k.why);
    CHECK(describe(ours) == describe(*k.ours));
  } else {
    CHECK(describe(ours) == describe(theirs));
  }
}

}  // namespace edd::test::compat
