#include "rule/program.h"

namespace edd::rule {

std::optional<Variable> find_variable(std::string_view name) {
  for (std::size_t i = 0; i < kVariableNames.size(); ++i) {
    if (kVariableNames[i] == name) return static_cast<Variable>(i);
  }
  return std::nullopt;
}

std::string_view variable_name(Variable v) { return kVariableNames[static_cast<std::size_t>(v)]; }

}  // namespace edd::rule
