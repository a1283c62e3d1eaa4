#include "service/webhook_routes.h"

#include <boost/json.hpp>

#include <memory>

#include "http/bearer_auth.h"
#include "http/log_limiter.h"

namespace edd::service {

namespace json = boost::json;

namespace {

// Handlers run on the event loop only, so the limiter needs no lock.
using SharedLimiter = std::shared_ptr<http::LogRateLimiter>;

http::Response unauthorized(const WebhookContext& ctx, http::LogRateLimiter& limiter,
                            http::BearerCheck why, const http::Request& req) {
  const std::string_view reason = http::bearer_check_name(why);
  if (ctx.unauthorized) ctx.unauthorized(why);
  if (const auto held_back = limiter.admit(reason)) {
    ctx.say("webhook: 401 from " + req.remote_address + " on " + req.path + " (" +
            std::string(reason) + ")" + http::held_back_note(*held_back));
  }
  http::Response r = http::Response::json(401, R"({"error":"missing or wrong bearer token"})");
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

bool query_flag(const std::string& query, std::string_view name) {
  const std::string want = std::string(name) + "=1";
  std::size_t at = 0;
  while (at <= query.size()) {
    const auto amp = query.find('&', at);
    if (query.substr(at, amp == std::string::npos ? std::string::npos : amp - at) == want) {
      return true;
    }
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  return false;
}

http::Response alertmanager(const WebhookContext& ctx, http::LogRateLimiter& limiter,
                            const http::Request& req) {
  const WebhookSettings s = ctx.settings();
  if (const auto check = http::check_bearer(req, s.token); check != http::BearerCheck::kAccepted) {
    return unauthorized(ctx, limiter, check, req);
  }
  auto payload = http::parse_alertmanager_payload(req.body);
  if (!payload) {
    ctx.say("webhook: 400 from " + req.remote_address + ": " + payload.error().message);
    return http::Response::json(400,
                                json::serialize(json::object{{"error", payload.error().message}}));
  }
  std::size_t matching = 0;
  for (const auto& a : payload->alerts) matching += http::alert_matches(a, s.matchers) ? 1 : 0;
  if (matching == 0) {
    ctx.say("webhook: group " + payload->group_key + " (" + payload->status +
            "): no firing alert matches; nothing to do");
    return http::Response::json(
        200, R"({"accepted":false,"reason":"no firing alert matches the configured labels"})");
  }
  const bool coalesced = ctx.loop->run_pending();
  ctx.loop->request_run(Trigger::kWebhook, s.bypass_rule);
  ctx.say("webhook: group " + payload->group_key + ": " + std::to_string(matching) +
          " firing alert(s) match; " +
          (coalesced ? "a run is already pending" : "run requested for the next poll"));
  ctx.wake_worker();
  return http::Response::json(
      202, json::serialize(json::object{
               {"accepted", true}, {"coalesced", coalesced}, {"matchingAlerts", matching}}));
}

http::Response manual(const WebhookContext& ctx, http::LogRateLimiter& limiter,
                      const http::Request& req) {
  const WebhookSettings s = ctx.settings();
  if (const auto check = http::check_bearer(req, s.token); check != http::BearerCheck::kAccepted) {
    return unauthorized(ctx, limiter, check, req);
  }
  if (query_flag(req.query, "dry_run")) {
    const PollView view = ctx.loop->last_view();
    json::array plan;
    for (auto p : defrag::make_plan(view.members, ctx.rule(), defrag::PlanPolicy{})) {
      // The reclaim floor as the last poll applied it (with the config's min_reclaim).
      for (std::size_t i = 0; i < view.members.size() && i < view.floors.size(); ++i) {
        if (p.action == defrag::Action::kDefragment && view.members[i].endpoint == p.endpoint &&
            view.floors[i].holds_back) {
          p.action = defrag::Action::kSkipFloor;
          p.reason = view.floors[i].reason;
        }
      }
      plan.push_back(json::object{{"endpoint", p.endpoint},
                                  {"name", p.name},
                                  {"memberId", etcd::member_id_hex(p.member_id)},
                                  {"isLeader", p.is_leader},
                                  {"action", defrag::action_name(p.action)},
                                  {"reason", p.reason}});
    }
    return http::Response::json(
        200, json::serialize(json::object{
                 {"dryRun", true}, {"nospace", view.nospace}, {"plan", std::move(plan)}}));
  }
  const bool force = query_flag(req.query, "force");
  const bool coalesced = ctx.loop->run_pending();
  ctx.loop->request_run(Trigger::kManual, force);
  ctx.say(std::string("manual run requested from ") + req.remote_address +
          (force ? " (rule bypassed)" : ""));
  ctx.wake_worker();
  return http::Response::json(
      202, json::serialize(json::object{{"accepted", true}, {"coalesced", coalesced}}));
}

}  // namespace

void add_webhook_routes(http::Router& router, const WebhookContext& context) {
  if (context.settings().token.empty()) return;  // disabled: 404, never open
  static SystemClock system_clock;
  const SharedLimiter limiter =
      std::make_shared<http::LogRateLimiter>(context.clock ? *context.clock : system_clock);
  router.add("POST", "/v1/alertmanager", [context, limiter](const http::Request& req) {
    return alertmanager(context, *limiter, req);
  });
  router.add("POST", "/v1/defrag", [context, limiter](const http::Request& req) {
    return manual(context, *limiter, req);
  });
}

}  // namespace edd::service
