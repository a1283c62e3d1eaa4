// libFuzzer target for the rule language: any bytes must parse or be rejected with a one-line
// error and a column inside the text, and a parsed rule must evaluate or err, never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "rule/rule.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

void require_one_line(const edd::Result<bool>& r) {
  if (!r) require(r.error().message.find('\n') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rule = edd::rule::Rule::parse(text);
  const auto fault = edd::rule::Rule::diagnose(text);
  require(rule.has_value() != fault.has_value());
  if (!rule) {
    require(rule.error().code == edd::ErrorCode::kInvalidArgument);
    require(rule.error().message.find('\n') == std::string::npos);
    require(fault->column >= 1 && fault->column <= size + 1);
    return 0;
  }
  require(rule->text() == text);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const edd::rule::Inputs inputs[] = {
      {0, 0, 0},   {100, 40, 200},          {1.7 * (1 << 30), 1.6 * (1 << 30), 2.0 * (1 << 30)},
      {-5, 7, -3}, {1e308, -1e308, 1e-308}, {kInf, 0, 1},
  };
  for (const auto& in : inputs) require_one_line(rule->evaluate(in));
  return 0;
}
