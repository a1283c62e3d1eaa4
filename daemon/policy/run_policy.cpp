#include "policy/run_policy.h"

#include "policy/trigger.h"

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

std::string trigger_name(Trigger t) {
  switch (t) {
    case Trigger::kRule:
      return "rule";
    case Trigger::kWebhook:
      return "webhook";
    case Trigger::kManual:
      return "manual";
    case Trigger::kNoSpace:
      break;
  }
  return "nospace";
}

}  // namespace edd::policy
