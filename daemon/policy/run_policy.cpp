#include "policy/run_policy.h"

namespace edd::policy {

std::string_view to_string(MoveLeader m) {
  switch (m) {
    case MoveLeader::kNever:
      return "false";
    case MoveLeader::kAlways:
      return "true";
    case MoveLeader::kAuto:
      return "auto";
  }
  return "auto";
}

}  // namespace edd::policy
