// The routes that ask for a run: POST /v1/alertmanager (Alertmanager's webhook) and POST
// /v1/defrag (an operator; ?dry_run=1 returns the plan from the last poll). Both need the bearer
// token; without a token file they are not registered (404), never open. Handlers only queue a
// request for the worker and answer at once (202): they run on the event loop.
#pragma once

#include <functional>
#include <string>

#include "http/alertmanager_payload.h"
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
};

void add_webhook_routes(http::Router& router, WebhookContext context);

}  // namespace edd::service
