// Number literals: digits with an optional fraction; the forms we reject say where and why.
#include <catch2/catch.hpp>

#include "rule/rule.h"

using edd::rule::Rule;

namespace {

bool eval(std::string_view text) {
  auto rule = Rule::parse(text);
  INFO(text << (rule ? "" : ": " + rule.error().message));
  REQUIRE(rule.has_value());
  auto result = rule->evaluate({});
  REQUIRE(result.has_value());
  return *result;
}

edd::rule::Fault fault(std::string_view text) {
  auto f = Rule::diagnose(text);
  INFO(text);
  REQUIRE(f.has_value());
  return *f;
}

}  // namespace

TEST_CASE("the rule reads integer literals, including the byte sizes users write") {
  CHECK(eval("200*1024*1024 == 209715200"));
  CHECK(eval("0 == 0"));
  CHECK(eval("007 == 7"));
  CHECK(eval("8589934592 == 8*1024*1024*1024"));
}

TEST_CASE("the rule compares dbQuotaUsage against a decimal") {
  auto rule = Rule::parse("dbQuotaUsage > 0.8");
  REQUIRE(rule);
  CHECK(*rule->evaluate({81, 0, 100}) == true);
  CHECK(*rule->evaluate({80, 0, 100}) == false);
  CHECK(eval("1.5 + 1.25 == 2.75"));
  CHECK(eval("0.1 + 0.2 != 0.3"));  // float64, exactly as Go's
}

TEST_CASE("the rule rejects a decimal without a leading digit") {
  const auto f = fault("dbQuotaUsage > .5");
  CHECK(f.column == 16);
  CHECK_THAT(f.reason, Catch::Contains("0.5"));
}

TEST_CASE("the rule rejects a decimal point without digits after it") {
  const auto f = fault("dbSize > 1.");
  CHECK(f.column == 11);
  CHECK_THAT(f.reason, Catch::Contains("decimal point"));
  CHECK(fault("1. > 0").column == 2);
}

TEST_CASE("the rule rejects exponents at the 'e'") {
  const auto f = fault("dbSize > 1e3");
  CHECK(f.column == 11);
  CHECK_THAT(f.reason, Catch::Contains("exponents are not supported"));
  CHECK(fault("dbSize > 2.5E9").column == 13);
}

TEST_CASE("the rule rejects letters or a second point glued to a number") {
  CHECK(fault("dbSize > 0x10").column == 11);
  CHECK(fault("dbSize > 10MB").column == 12);
  CHECK(fault("dbSize > 1.2.3").column == 13);
}

TEST_CASE("the rule rejects a number too large for float64") {
  const auto f = fault("dbSize > 1" + std::string(400, '0'));
  CHECK(f.column == 10);
  CHECK_THAT(f.reason, Catch::Contains("out of range"));
}
