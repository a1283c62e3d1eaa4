// Evaluating rules on members: etcd-defrag's README examples, the empty rule, and the
// per-member evaluation errors (never a crash, never inf or NaN).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "rule/rule.h"

using edd::rule::Inputs;
using edd::rule::Rule;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = 1024.0 * kMiB;

Rule parse(std::string_view text) {
  auto rule = Rule::parse(text);
  INFO(text << (rule ? "" : ": " + rule.error().message));
  REQUIRE(rule.has_value());
  return *rule;
}

std::string eval_error(std::string_view text, const Inputs& in = {}) {
  auto result = parse(text).evaluate(in);
  INFO(text);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == edd::ErrorCode::kInvalidArgument);
  return result.error().message;
}

}  // namespace

TEST_CASE("etcd-defrag's quota-or-free-space example rule fires on either condition") {
  const Rule rule = parse("dbSize > dbQuota*80/100 || dbSize - dbSizeInUse > 200*1024*1024");
  // 1.7 GiB of a 2 GiB quota: over 80%.
  CHECK(*rule.evaluate({1.7 * kGiB, 1.65 * kGiB, 2 * kGiB}) == true);
  // 1 GiB with 300 MiB free.
  CHECK(*rule.evaluate({1 * kGiB, 1 * kGiB - 300 * kMiB, 2 * kGiB}) == true);
  // 1 GiB with 100 MiB free.
  CHECK(*rule.evaluate({1 * kGiB, 1 * kGiB - 100 * kMiB, 2 * kGiB}) == false);
  // exactly 80% and exactly 200 MiB free: neither is strictly greater.
  CHECK(*rule.evaluate({800, 800 - 200 * kMiB, 1000}) == false);
}

TEST_CASE("etcd-defrag's usage-or-free example rule fires on either condition") {
  const Rule rule = parse("dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024");
  CHECK(*rule.evaluate({1.7 * kGiB, 1.65 * kGiB, 2 * kGiB}) == true);
  CHECK(*rule.evaluate({1 * kGiB, 1 * kGiB - 300 * kMiB, 2 * kGiB}) == true);
  CHECK(*rule.evaluate({1 * kGiB, 1 * kGiB - 100 * kMiB, 2 * kGiB}) == false);
  CHECK(rule.text() == "dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024");
  CHECK_FALSE(rule.is_always());
}

TEST_CASE("an empty rule is always true") {
  for (const char* text : {"", "   ", " \t\r\n "}) {
    const Rule rule = parse(text);
    CHECK(rule.is_always());
    CHECK(rule.text() == text);
    CHECK(*rule.evaluate({}) == true);
    CHECK(*rule.evaluate({1, 2, 0}) == true);
  }
  const Rule by_default;
  CHECK(by_default.is_always());
  CHECK(by_default.text().empty());
  CHECK(*by_default.evaluate({}) == true);
}

TEST_CASE("dividing by zero in a rule is an error for that member") {
  CHECK(eval_error("dbSize / dbQuota > 1", {10, 0, 0}) ==
        "division by zero in rule \"dbSize / dbQuota > 1\" at column 8");
  CHECK(*parse("dbSize / dbQuota > 1").evaluate({10, 0, 5}) == true);
  CHECK_THAT(eval_error("1 / (dbSize - dbSize) > 0", {10, 0, 0}),
             Catch::StartsWith("division by zero in rule"));
}

TEST_CASE("a rule reading dbQuotaUsage with a zero quota divides by zero") {
  CHECK_THAT(eval_error("dbQuotaUsage > 0.8", {10, 0, 0}),
             Catch::StartsWith("division by zero (dbQuotaUsage is dbSize/dbQuota and dbQuota is 0) "
                               "in rule \"dbQuotaUsage > 0.8\" at column 1"));
}

TEST_CASE("a rule taking a remainder by zero errs for that member") {
  CHECK(eval_error("dbSize % 0 == 0", {10, 0, 0}) ==
        "modulo by zero in rule \"dbSize % 0 == 0\" at column 8");
}

TEST_CASE("a rule taking a remainder of non-whole numbers errs") {
  CHECK_THAT(eval_error("2.5 % 2 == 0"),
             Catch::Contains("'%' needs whole numbers, but got 2.5 % 2"));
  CHECK_THAT(eval_error("5 % 1.5 == 0"), Catch::Contains("at column 3"));
  CHECK_THAT(eval_error("dbQuotaUsage % 1 == 0", {1, 0, 3}), Catch::Contains("whole numbers"));
  CHECK(*parse("4.0 % 2 == 0").evaluate({}) == true);
}

TEST_CASE("rule arithmetic that overflows float64 is an error, not infinity") {
  const std::string huge = "1" + std::string(300, '0');
  CHECK_THAT(eval_error(huge + " * " + huge + " > 0"), Catch::StartsWith("arithmetic overflow"));
  CHECK_THAT(eval_error("dbSize * dbSize > 0", {1e200, 0, 0}),
             Catch::StartsWith("arithmetic overflow"));
  CHECK_THAT(eval_error("dbSize - dbSizeInUse < 0", {1.7e308, -1.7e308, 0}),
             Catch::StartsWith("arithmetic overflow"));
}

TEST_CASE("a rule reading an infinite or NaN figure errs") {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THAT(eval_error("dbSize > 0", {inf, 0, 0}),
             Catch::StartsWith("input dbSize is inf, not a finite number"));
  CHECK_THAT(eval_error("dbSizeFree > 0", {1, nan, 0}), Catch::Contains("dbSizeInUse"));
  CHECK_THAT(eval_error("dbQuotaUsage > 0", {1, 0, nan}), Catch::Contains("dbQuota"));
  CHECK(*parse("dbSize > 0").evaluate({1, nan, nan}) == true);  // unused figures do not matter
}

TEST_CASE("a rule is copied cheaply and evaluated from many threads at once") {
  const Rule rule = parse("dbQuotaUsage > 0.5 && dbSizeFree % 2 == 0");
  const Rule copy = rule;               // NOLINT(performance-unnecessary-copy-initialization)
  CHECK(&copy.text() == &rule.text());  // shared, not duplicated
  std::vector<std::thread> threads;
  std::vector<int> matches(4, 0);
  for (std::size_t t = 0; t < matches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        const auto r = copy.evaluate({static_cast<double>(60 + i % 2), 0, 100});
        if (r && *r) ++matches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const int m : matches) CHECK(m == 500);
}
