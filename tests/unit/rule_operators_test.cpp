// The rule language's operators, precedence, associativity and short-circuiting.
#include <catch2/catch.hpp>

#include "rule/rule.h"

using edd::rule::Inputs;
using edd::rule::Rule;

namespace {

bool eval(std::string_view text, const Inputs& in = {}) {
  auto rule = Rule::parse(text);
  INFO(text << (rule ? "" : ": " + rule.error().message));
  REQUIRE(rule.has_value());
  auto result = rule->evaluate(in);
  INFO(text << (result ? "" : ": " + result.error().message));
  REQUIRE(result.has_value());
  return *result;
}

}  // namespace

TEST_CASE("the rule adds, subtracts, multiplies, divides and takes remainders") {
  CHECK(eval("1 + 2 == 3"));
  CHECK(eval("5 - 7 == -2"));
  CHECK(eval("6 * 7 == 42"));
  CHECK(eval("7 / 2 == 3.5"));
  CHECK(eval("7 % 3 == 1"));
  CHECK(eval("-7 % 3 == -1"));  // the sign follows the dividend, as in Go and C
  CHECK(eval("7 % -3 == 1"));
}

TEST_CASE("the rule compares numbers with all six comparison operators") {
  CHECK(eval("1 == 1"));
  CHECK_FALSE(eval("1 == 2"));
  CHECK(eval("1 != 2"));
  CHECK_FALSE(eval("1 != 1"));
  CHECK(eval("1 < 2"));
  CHECK_FALSE(eval("2 < 2"));
  CHECK(eval("3 > 2"));
  CHECK_FALSE(eval("2 > 2"));
  CHECK(eval("2 <= 2"));
  CHECK_FALSE(eval("3 <= 2"));
  CHECK(eval("2 >= 2"));
  CHECK_FALSE(eval("1 >= 2"));
}

TEST_CASE("the rule combines conditions with and, or and not") {
  CHECK(eval("1 < 2 && 2 < 3"));
  CHECK_FALSE(eval("1 < 2 && 3 < 2"));
  CHECK(eval("1 > 2 || 2 < 3"));
  CHECK_FALSE(eval("1 > 2 || 3 < 2"));
  CHECK(eval("!(1 > 2)"));
  CHECK_FALSE(eval("!(1 < 2)"));
  CHECK(eval("!!(1 < 2)"));
}

TEST_CASE("the rule negates numbers with unary minus") {
  CHECK(eval("-1 < 0"));
  CHECK(eval("--1 == 1"));
  CHECK(eval("-(2 + 3) == -5"));
  CHECK(eval("2 - -3 == 5"));
  CHECK(eval("-dbSize == -10", Inputs{10, 0, 0}));
}

TEST_CASE("the rule compares two conditions with == and !=") {
  CHECK(eval("(1 < 2) == (2 < 3)"));
  CHECK(eval("(1 < 2) != (3 < 2)"));
}

TEST_CASE("the rule gives * / % precedence over + - and those over comparisons") {
  CHECK(eval("1+2*3==7"));
  CHECK(eval("2*3+1==7"));
  CHECK(eval("1+6/2==4"));
  CHECK(eval("1+7%4==4"));
  CHECK(eval("-2*3 == -6"));
}

TEST_CASE("the rule evaluates operators of one level left to right") {
  CHECK(eval("10-4-3==3"));
  CHECK(eval("64/4/2==8"));
  CHECK(eval("17%10%4==3"));
  CHECK(eval("2*3%4==2"));
  CHECK(eval("10-2+3==11"));
}

TEST_CASE("the rule binds && tighter than || and ! tighter than &&") {
  CHECK(eval("!(1>2) && 2>1"));
  CHECK(eval("1>2 && 1>2 || 2>1"));  // (false && false) || true
  CHECK(eval("2>1 || 1>2 && 1>2"));  // true || (false && false)
  CHECK_FALSE(eval("!(2>1) && 2>1"));
  CHECK_FALSE(eval("(2>1 || 2>1) && 1>2"));
}

TEST_CASE("parentheses override the rule's precedence") {
  CHECK(eval("(1+2)*3==9"));
  CHECK(eval("10-(4-3)==9"));
  CHECK(eval("((((1))))==1"));
}

TEST_CASE("the rule short-circuits && and ||, so the other side's errors never happen") {
  CHECK_FALSE(eval("1>2 && dbSize/0 > 1"));
  CHECK(eval("2>1 || dbSize/0 > 1"));
  CHECK_FALSE(eval("1>2 && dbQuotaUsage > 0.5", Inputs{10, 5, 0}));
  CHECK(eval("1>2 && dbSize/0 > 1 || 2>1"));
  CHECK_FALSE(eval("1>2 && 1>2 && dbSize/0 > 1"));
  CHECK(eval("2>1 || 2>1 || dbSize%0 > 1"));
  auto rule = Rule::parse("2>1 && dbSize/0 > 1");
  REQUIRE(rule);
  CHECK_FALSE(rule->evaluate({}).has_value());  // the right side does run when it must
}

TEST_CASE("the rule reads each of the five variables") {
  const Inputs in{1000, 600, 4000};
  CHECK(eval("dbSize == 1000", in));
  CHECK(eval("dbSizeInUse == 600", in));
  CHECK(eval("dbSizeFree == 400", in));
  CHECK(eval("dbQuota == 4000", in));
  CHECK(eval("dbQuotaUsage == 0.25", in));
}

TEST_CASE("the rule works in float64, so integer-looking division keeps its fraction") {
  CHECK(eval("dbQuota*80/100 == 3200", Inputs{0, 0, 4000}));
  CHECK(eval("dbQuota*80/100 == 80.8", Inputs{0, 0, 101}));
  CHECK(eval("1/3 < 0.34 && 1/3 > 0.33"));
}
