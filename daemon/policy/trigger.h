// Why a run starts: one enum for the loop that decides, the log that says it and the metrics
// that count it.
#pragma once

#include <string>

namespace edd::policy {

enum class Trigger {
  kRule,     // the configured rule fired for a member
  kWebhook,  // Alertmanager called the webhook
  kManual,   // an operator asked through POST /v1/defrag
  kNoSpace,  // etcd raised NOSPACE: the cluster is read-only until every member is defragmented
};
std::string trigger_name(Trigger t);  // "rule", "webhook", "manual", "nospace": for the log

}  // namespace edd::policy
