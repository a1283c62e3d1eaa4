// A bad rule in the config: the column points into the rule string at the fault, whatever
// TOML string form holds it.
#include <catch2/catch.hpp>

#include <string>

#include "config/loader.h"
#include "config/source_map.h"

using edd::config::load_config_string;
using edd::config::locate_in_string;
using edd::config::SourcePosition;

namespace {

std::string rule_error(const std::string& toml) {
  const auto r = load_config_string(toml, "r.toml");
  INFO(toml);
  REQUIRE(r.errors.size() == 1);
  return r.errors[0];
}

}  // namespace

TEST_CASE("a config's bad rule points at the fault inside a basic string") {
  // rule = "dbSize >> 3": the quote is column 8, the rule's column 8 ('>') is column 8 + 8.
  CHECK(rule_error("[policy]\nrule = \"dbSize >> 3\"\n") ==
        "r.toml:2:16: policy.rule: invalid rule: unexpected '>' (shift operators are not "
        "supported) (column 8 of the rule)");
  CHECK_THAT(rule_error("[policy]\n    rule   =   \"dbQuotaUsage > 0.8 || quota > 2\"\n"),
             Catch::StartsWith("r.toml:2:39: policy.rule: invalid rule: unknown variable "
                               "\"quota\""));
}

TEST_CASE("a config's bad rule points at the fault inside a literal string") {
  CHECK_THAT(rule_error("[policy]\nrule = 'dbSize > 1 &&'\n"),
             Catch::StartsWith("r.toml:2:22: policy.rule: invalid rule: "));
}

TEST_CASE("a config's bad rule points at the fault past escape sequences") {
  // \t is two source columns for one rule byte; \u0020 six for one.
  CHECK_THAT(rule_error("[policy]\nrule = \"dbSize\\t>\\u0020x\"\n"),
             Catch::StartsWith("r.toml:2:24: policy.rule: invalid rule: unknown variable \"x\"") &&
                 Catch::EndsWith("(column 10 of the rule)"));
}

TEST_CASE("a config's bad rule points at the fault on a later line of a multi-line string") {
  const std::string toml =
      "[policy]\n"
      "rule = \"\"\"\n"
      "dbQuotaUsage > 0.8 ||\n"
      "  dbSizeFre > 1\"\"\"\n";
  CHECK_THAT(rule_error(toml),
             Catch::StartsWith("r.toml:4:3: policy.rule: invalid rule: unknown variable "
                               "\"dbSizeFre\""));
  const std::string literal =
      "[policy]\n"
      "rule = '''dbSize > 1 ||\r\n"
      "   dbSize >> 2'''\r\n";
  CHECK_THAT(rule_error(literal), Catch::StartsWith("r.toml:3:11: policy.rule: invalid rule: "));
  const std::string trimmed =
      "[policy]\n"
      "rule = \"\"\"dbSize > 1 \\\n"
      "       && dbSize < \"\"\"\n";
  CHECK_THAT(rule_error(trimmed), Catch::StartsWith("r.toml:3:20: policy.rule: invalid rule: "));
}

TEST_CASE("a config's bad rule after non-ASCII text counts columns in characters") {
  // toml++ counts code points: the quoted key "règle" is 7 columns, 8 bytes.
  const auto r =
      load_config_string("policy = { \"r\xC3\xA8gle\" = 1, rule = \"1 +\" }\n", "r.toml");
  REQUIRE(r.errors.size() == 2);
  CHECK_THAT(r.errors[0], Catch::StartsWith("r.toml:1:12: policy.\"r\xC3\xA8gle\": unknown key"));
  CHECK_THAT(r.errors[1], Catch::StartsWith("r.toml:1:36: policy.rule: invalid rule: "));
}

TEST_CASE("a config's rule fault at the end of the rule points at the closing quote") {
  CHECK_THAT(rule_error("[policy]\nrule = \"dbSize >\"\n"),
             Catch::StartsWith("r.toml:2:17: policy.rule: invalid rule: "));
}

TEST_CASE("a config's rule that is too long is rejected with a column inside the value") {
  const std::string rule(5000, '1');
  const auto r = load_config_string("[policy]\nrule = \"" + rule + "\"\n", "r.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK_THAT(r.errors[0], Catch::StartsWith("r.toml:2:4105: policy.rule: invalid rule: the rule "
                                            "is 5000 characters long"));
}

TEST_CASE("a config source map gives up when the position is not a string") {
  CHECK_FALSE(locate_in_string("a = 1\n", SourcePosition{1, 5}, 0).has_value());
  CHECK_FALSE(locate_in_string("a = 1\n", SourcePosition{3, 1}, 0).has_value());
  CHECK_FALSE(locate_in_string("a = 1\n", SourcePosition{1, 40}, 0).has_value());
  CHECK_FALSE(locate_in_string("", SourcePosition{0, 0}, 0).has_value());
  const auto p = locate_in_string("a = \"xyz\"\n", SourcePosition{1, 5}, 2);
  REQUIRE(p.has_value());
  CHECK(p->line == 1);
  CHECK(p->column == 8);
}
