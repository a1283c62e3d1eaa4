// The routes that ask for a run: POST /v1/alertmanager (Alertmanager's webhook) and POST
// /v1/defrag (an operator; ?dry_run=1 returns the plan from the last poll). Both need the bearer
// token; without a token file they are not registered (404), never open. Handlers only queue a
// request for the worker and answer at once (202): they run on the event loop.
#pragma once

#include <functional>
#include <string>

#include "common/clock.h"
#include "http/alertmanager_payload.h"
#include "http/bearer_auth.h"
#include "http/router.h"
#include "service/daemon_loop.h"

namespace edd::service {

struct WebhookSettings {
  std::string token;  // empty: routes disabled
  http::LabelMatchers matchers;
  bool bypass_rule = true;
};

struct WebhookContext {
  std::function<WebhookSettings()> settings;  // read per request: SIGHUP may change it
  DaemonLoop* loop = nullptr;
  std::function<void()> wake_worker;
  std::function<void(const std::string&)> say;
  std::function<rule::Rule()> rule;  // for the dry-run plan
  // Told of every 401 with its reason, for the counter; may be empty. 401s are logged at most
  // once a minute per reason (with how many were held back): a token guesser must not flood
  // the log. The log line names the client's address, never what it sent.
  std::function<void(http::BearerCheck)> unauthorized;
  Clock* clock = nullptr;  // for that rate limit; nullptr: the system clock
};

void add_webhook_routes(http::Router& router, const WebhookContext& context);

}  // namespace edd::service
