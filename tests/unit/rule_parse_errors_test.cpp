// Rules that must be rejected before anything runs, with the column of the fault.
#include <catch2/catch.hpp>

#include "rule/rule.h"

using edd::rule::Rule;

namespace {

// The full one-line error from Rule::parse, checked to agree with Rule::diagnose's column.
std::string parse_error(std::string_view text) {
  auto rule = Rule::parse(text);
  INFO(text);
  REQUIRE_FALSE(rule.has_value());
  CHECK(rule.error().code == edd::ErrorCode::kInvalidArgument);
  CHECK(rule.error().message.find('\n') == std::string::npos);
  const auto fault = Rule::diagnose(text);
  REQUIRE(fault.has_value());
  CHECK_THAT(rule.error().message,
             Catch::Contains(": column " + std::to_string(fault->column) + ": " + fault->reason));
  return rule.error().message;
}

std::size_t column(std::string_view text) {
  (void)parse_error(text);
  return Rule::diagnose(text)->column;
}

}  // namespace

TEST_CASE("a valid rule has no fault to diagnose") {
  CHECK_FALSE(Rule::diagnose("dbSize > 1").has_value());
  CHECK_FALSE(Rule::diagnose("").has_value());
}

TEST_CASE("the rule names an unknown variable and lists the known ones") {
  CHECK(parse_error("dbsize > 1") ==
        "invalid rule \"dbsize > 1\": column 1: unknown variable \"dbsize\" (known: dbSize, "
        "dbSizeInUse, dbSizeFree, dbQuota, dbQuotaUsage)");
  CHECK(column("dbSize > 1 && quota > 2") == 15);
  CHECK(column("true") == 1);
}

TEST_CASE("the rule points at an unexpected character") {
  CHECK_THAT(parse_error("dbSize >> 3"),
             Catch::StartsWith("invalid rule \"dbSize >> 3\": column 8: unexpected '>'"));
  CHECK(column("dbSize > 1 $ 2") == 12);
  CHECK_THAT(parse_error("dbSize = 1"), Catch::Contains("column 8: unexpected '='"));
  CHECK_THAT(parse_error("dbSize > 1 & 2 > 1"), Catch::Contains("column 12: unexpected '&'"));
  CHECK_THAT(parse_error("dbSize > 1 | 2 > 1"), Catch::Contains("column 12: unexpected '|'"));
  CHECK_THAT(parse_error("dbSize > 'a'"), Catch::Contains("column 10: unexpected '''"));
}

TEST_CASE("the rule's error stays one line and printable whatever the text holds") {
  const std::string text = "dbSize >\n\x01 1";
  CHECK(parse_error(text) ==
        "invalid rule \"dbSize >\\n\\x01 1\": column 10: unexpected byte 0x01");
  CHECK(column("dbSize > \xC3\xA9") == 10);
  CHECK_THAT(parse_error("\"x\""), Catch::StartsWith("invalid rule \"\\\"x\\\"\": column 1"));
}

TEST_CASE("the rule points at an unbalanced parenthesis") {
  CHECK_THAT(parse_error("(dbSize > 1"),
             Catch::Contains("column 12: missing ')' to close the '(' at column 1"));
  CHECK_THAT(parse_error("dbSize > 1)"),
             Catch::Contains("column 11: unexpected ')' without a matching '('"));
  CHECK(column("((dbSize > 1) || (1 > 2)") == 25);
  CHECK(column("(1 2) > 0") == 4);
  CHECK(column("() > 1") == 2);
}

TEST_CASE("the rule points at trailing garbage after a complete expression") {
  CHECK_THAT(parse_error("dbSize > 1 2"),
             Catch::Contains("column 12: unexpected '2'; expected an operator or the end"));
  CHECK(column("dbSize > 1 dbQuota") == 12);
  CHECK(column("dbSize > 1 !") == 12);
}

TEST_CASE("the rule points at a missing operand") {
  CHECK_THAT(parse_error("dbSize >"), Catch::Contains("column 9: missing operand after '>'"));
  CHECK_THAT(parse_error("dbSize > 1 &&  "),
             Catch::Contains("column 16: missing operand after '&&'"));
  CHECK_THAT(parse_error("dbSize > * 2"), Catch::Contains("column 10: unexpected '*'"));
  CHECK(column("> 1") == 1);
  CHECK(column("dbSize > 1 && && 2 > 1") == 15);
  CHECK(column("!") == 2);
}

TEST_CASE("the rule must be true or false as a whole") {
  CHECK_THAT(parse_error("dbSize + 1"),
             Catch::Contains("column 1: the rule must be true or false"));
  CHECK(column("  dbSize") == 3);
  CHECK(column("(dbSize)") == 1);
  CHECK(column("-dbSize") == 1);
}

TEST_CASE("the rule rejects mixing numbers and true/false") {
  CHECK_THAT(parse_error("dbSize && 1"),
             Catch::Contains("column 8: '&&' needs true/false on both sides, but the left side "
                             "is a number"));
  CHECK_THAT(parse_error("1 > 0 || dbSize"),
             Catch::Contains("column 7: '||' needs true/false on both sides, but the right side "
                             "is a number"));
  CHECK_THAT(parse_error("!dbSize"),
             Catch::Contains("column 1: '!' needs true/false, but its operand is a number"));
  CHECK_THAT(parse_error("-(1 > 0) < 1"), Catch::Contains("column 1: unary '-' needs a number"));
  CHECK_THAT(parse_error("(dbSize > dbQuota) + 1 > 0"),
             Catch::Contains("column 20: '+' needs numbers on both sides, but the left side is "
                             "true/false"));
  CHECK(column("1 * (2 > 1) > 0") == 3);
  CHECK(column("1 < 2 < 3") == 7);
  CHECK(column("(1 > 0) >= (2 > 1)") == 9);
  CHECK_THAT(parse_error("dbSize == (1 > 0)"),
             Catch::Contains("column 8: '==' needs the same kind on both sides, but the left side "
                             "is a number and the right side is true/false"));
  CHECK(column("1 < 2 == 2 < 3") == 7);  // ((1 < 2) == 2) < 3, as in Go
}

TEST_CASE("the rule rejects very deep nesting instead of exhausting the stack") {
  const std::string deep_parens = std::string(2000, '(') + "1 > 0" + std::string(2000, ')');
  CHECK_THAT(parse_error(deep_parens), Catch::Contains("column 201: nested too deeply"));
  const std::string deep_nots = std::string(3000, '!') + "(1 > 0)";
  CHECK(column(deep_nots) == 201);
  const std::string deep_minus = std::string(3000, '-') + "1 > 0";
  CHECK(column(deep_minus) == 201);
  // 200 levels are fine.
  CHECK(Rule::parse(std::string(199, '(') + "1 > 0" + std::string(199, ')')).has_value());
}

TEST_CASE("the rule evaluates long flat chains without recursion") {
  std::string chain = "1";
  while (chain.size() < 4000) chain += "+1";
  chain += " > 0";
  auto rule = Rule::parse(chain);
  REQUIRE(rule);
  CHECK(*rule->evaluate({}));
}

TEST_CASE("the rule rejects text longer than the limit with a short message") {
  const std::string text = "dbSize > 1" + std::string(5000, ' ');
  const auto message = parse_error(text);
  CHECK_THAT(message, Catch::Contains("column 4097: the rule is 5010 characters long; the limit "
                                      "is 4096"));
  CHECK(message.size() < 200);
  CHECK(Rule::parse("dbSize > 1" + std::string(4086, ' ')).has_value());
}
