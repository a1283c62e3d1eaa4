#include "rule/rule.h"

#include <cstdio>
#include <utility>
#include <variant>

#include "rule/evaluator.h"
#include "rule/parser.h"
#include "rule/program.h"

namespace edd::rule {

struct Rule::State {
  std::string text;
  Program program;
};

namespace {

// The rule in double quotes, escaped so the message stays one line whatever the text holds.
std::string quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(u));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::variant<Program, Fault> compile(std::string_view text) {
  if (text.size() > kMaxRuleLength) {
    return Fault{kMaxRuleLength + 1, "the rule is " + std::to_string(text.size()) +
                                         " characters long; the limit is " +
                                         std::to_string(kMaxRuleLength)};
  }
  return parse_program(text);
}

}  // namespace

Rule::Rule() = default;

Rule::Rule(std::shared_ptr<const State> state) : state_(std::move(state)) {}

Result<Rule> Rule::parse(std::string_view text) {
  auto compiled = compile(text);
  if (auto* fault = std::get_if<Fault>(&compiled)) {
    // Quoting thousands of characters would bury the reason; the column still locates it.
    std::string shown = quote(text.substr(0, text.size() > kMaxRuleLength ? 40 : text.size()));
    if (text.size() > kMaxRuleLength) shown.insert(shown.size() - 1, "...");
    return make_error(ErrorCode::kInvalidArgument, "invalid rule " + shown + ": column " +
                                                       std::to_string(fault->column) + ": " +
                                                       fault->reason);
  }
  return Rule(std::make_shared<const State>(
      State{std::string(text), std::get<Program>(std::move(compiled))}));
}

std::optional<Fault> Rule::diagnose(std::string_view text) {
  auto compiled = compile(text);
  if (auto* fault = std::get_if<Fault>(&compiled)) return std::move(*fault);
  return std::nullopt;
}

Result<bool> Rule::evaluate(const Inputs& in) const {
  if (!state_) return true;
  auto result = run_program(state_->program, in);
  if (auto* fault = std::get_if<Fault>(&result)) {
    return make_error(ErrorCode::kInvalidArgument, fault->reason + " in rule " +
                                                       quote(state_->text) + " at column " +
                                                       std::to_string(fault->column));
  }
  return std::get<bool>(result);
}

bool Rule::is_always() const { return !state_ || state_->program.code.empty(); }

const std::string& Rule::text() const {
  static const std::string kEmpty;
  return state_ ? state_->text : kEmpty;
}

}  // namespace edd::rule
