// Shared by the runner's unit tests: one run against the FakeCluster with a manual clock, and
// small lookups into its report.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "defrag/runner.h"
#include "fake_cluster.h"

namespace edd::test {

// One run against the fake with a manual clock; what the runner said is kept.
struct TestRun {
  explicit TestRun(FakeCluster& f) : fake(f) {}
  defrag::RunReport run(const std::vector<std::string>& seeds = {kEtcd1, kEtcd2, kEtcd3}) {
    defrag::Runner runner(fake, clock, rule, options,
                          [this](const std::string& line) { said.push_back(line); });
    return runner.run(seeds);
  }
  FakeCluster& fake;
  defrag::RunOptions options;
  rule::Rule rule;
  ManualClock clock;
  std::vector<std::string> said;
};

inline rule::Rule parse_rule(std::string_view text) {
  auto r = rule::Rule::parse(text);
  INFO(text << (r ? "" : ": " + r.error().message));
  REQUIRE(r.has_value());
  return *r;
}

inline const defrag::MemberReport& report_of(const defrag::RunReport& report,
                                             const std::string& endpoint) {
  auto it = std::find_if(report.members.begin(), report.members.end(),
                         [&](const defrag::MemberReport& m) { return m.endpoint == endpoint; });
  REQUIRE(it != report.members.end());
  return *it;
}

}  // namespace edd::test
