// The webhook and /v1/defrag routes against a stepped loop, and the payload parser and bearer
// check they stand on.
#include <catch2/catch.hpp>

#include <algorithm>

#include "fake_cluster.h"
#include "fake_lock_client.h"
#include "http/alertmanager_payload.h"
#include "http/bearer_auth.h"
#include "service/webhook_routes.h"

using namespace edd;
using edd::test::FakeCluster;
using edd::test::FakeLockClient;

namespace {

const std::string kToken = "s3cret-token-for-tests";

std::string payload(const std::string& status, const std::string& labels,
                    const std::string& version = "4") {
  return R"({"version":")" + version + R"(","groupKey":"{}:{alertname=\"X\"}","status":")" +
         status + R"(","receiver":"etcd-defragd","groupLabels":{},"commonLabels":{},)" +
         R"("alerts":[{"status":")" + status + R"(","labels":)" + labels +
         R"(,"annotations":{},"startsAt":"2026-11-21T00:00:00Z","endsAt":"0001-01-01T00:00:00Z",)" +
         R"("fingerprint":"abc"}]})";
}

const std::string kMatching =
    R"({"alertname":"EtcdDefragdQuotaUsageHigh","remediation":"etcd-defrag"})";

http::Request post(const std::string& path, const std::string& body, const std::string& token,
                   const std::string& query = "") {
  http::Request r;
  r.method = "POST";
  r.path = path;
  r.query = query;
  r.target = query.empty() ? path : path + "?" + query;
  r.body = body;
  r.remote_address = "127.0.0.1:5555";
  if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
  return r;
}

struct Fixture {
  Fixture() : lock(store, coord::LockOptions{}) {
    service::LoopSettings s;
    s.seeds = {edd::test::kEtcd1, edd::test::kEtcd2, edd::test::kEtcd3};
    s.local_endpoint = edd::test::kEtcd1;
    s.identity = "me";
    loop = std::make_unique<service::DaemonLoop>(cluster, store, lock, clock, service::LoopHooks{},
                                                 s, observer);
  }
  void routes(const std::string& token) {
    service::WebhookContext ctx;
    ctx.settings = [token] {
      return service::WebhookSettings{token, {{"remediation", "etcd-defrag"}}, true};
    };
    ctx.loop = loop.get();
    ctx.wake_worker = [this] { ++wakes; };
    ctx.say = [this](const std::string& line) { said.push_back(line); };
    ctx.rule = [] { return rule::Rule(); };
    ctx.unauthorized = [this](http::BearerCheck why) {
      refusals.emplace_back(http::bearer_check_name(why));
    };
    ctx.clock = &clock;
    service::add_webhook_routes(router, ctx);
  }
  http::Response send(const http::Request& r) { return router.dispatch(r, {}); }

  struct NullObserver final : service::LoopObserver {
    void on_poll(const service::PollView&, std::chrono::nanoseconds) override {}
    void on_run(service::Trigger, const defrag::RunReport&) override {}
    void on_lock(bool) override {}
    void say(const std::string&) override {}
  };
  FakeCluster cluster{edd::test::three_members(), 1};
  FakeLockClient store;
  coord::LeaseLock lock;
  ManualClock clock;
  NullObserver observer;
  std::unique_ptr<service::DaemonLoop> loop;
  http::Router router;
  int wakes = 0;
  std::vector<std::string> said;
  std::vector<std::string> refusals;
};

}  // namespace

TEST_CASE("webhook payload: a version 4 payload parses into alerts with labels") {
  auto p = http::parse_alertmanager_payload(payload("firing", kMatching));
  REQUIRE(p);
  CHECK(p->version == "4");
  CHECK(p->status == "firing");
  REQUIRE(p->alerts.size() == 1);
  CHECK(p->alerts[0].labels.at("remediation") == "etcd-defrag");
  CHECK(p->alerts[0].fingerprint == "abc");
  CHECK(http::alert_matches(p->alerts[0], {{"remediation", "etcd-defrag"}}));
  CHECK_FALSE(http::alert_matches(p->alerts[0], {{"remediation", "other"}}));
  CHECK_FALSE(http::alert_matches(p->alerts[0], {{"team", "etcd"}}));
}

TEST_CASE("webhook payload: a resolved alert never matches") {
  auto p = http::parse_alertmanager_payload(payload("resolved", kMatching));
  REQUIRE(p);
  CHECK_FALSE(http::alert_matches(p->alerts[0], {{"remediation", "etcd-defrag"}}));
}

TEST_CASE("webhook payload: malformed payloads are errors naming the field") {
  struct Case {
    std::string body;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"", "not JSON"},
      {"[]", "not a JSON object"},
      {payload("firing", kMatching, "3"), "unsupported version"},
      {R"({"groupKey":"g","status":"firing","alerts":[]})", "version"},
      {R"({"version":"4","status":"firing","alerts":[]})", "groupKey"},
      {R"({"version":"4","groupKey":"g","status":"firing"})", "alerts"},
      {R"({"version":"4","groupKey":"g","status":"firing","alerts":[1]})", "not an object"},
      {R"({"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing"}]})",
       "labels"},
      {R"({"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":1}}]})",
       "not a string"},
      {std::string(100, '[') + std::string(100, ']'), "not JSON"},
  };
  for (const auto& c : cases) {
    INFO(c.body.substr(0, 80));
    auto p = http::parse_alertmanager_payload(c.body);
    REQUIRE_FALSE(p);
    CHECK_THAT(p.error().message, Catch::Contains(c.says));
  }
}

TEST_CASE("webhook bearer: only the exact token passes, the scheme in any case") {
  http::Request r;
  CHECK_FALSE(http::bearer_matches(r, kToken));
  r.headers = {{"authorization", "bearer " + kToken}};
  CHECK(http::bearer_matches(r, kToken));
  r.headers = {{"Authorization", "Bearer " + kToken + "x"}};
  CHECK_FALSE(http::bearer_matches(r, kToken));
  r.headers = {{"Authorization", "Basic " + kToken}};
  CHECK_FALSE(http::bearer_matches(r, kToken));
  r.headers = {{"Authorization", "Bearer "}};
  CHECK_FALSE(http::bearer_matches(r, ""));
}

TEST_CASE("webhook bearer: a missing token is told apart from a wrong one") {
  http::Request r;
  CHECK(http::check_bearer(r, kToken) == http::BearerCheck::kMissing);
  r.headers = {{"Authorization", "Basic " + kToken}};
  CHECK(http::check_bearer(r, kToken) == http::BearerCheck::kMissing);
  r.headers = {{"Authorization", "Bearer   "}};
  CHECK(http::check_bearer(r, kToken) == http::BearerCheck::kMissing);
  r.headers = {{"Authorization", "Bearer nope"}};
  CHECK(http::check_bearer(r, kToken) == http::BearerCheck::kWrong);
  r.headers = {{"authorization", "bearer " + kToken}};
  CHECK(http::check_bearer(r, kToken) == http::BearerCheck::kAccepted);
  CHECK(http::bearer_check_name(http::BearerCheck::kMissing) == "missing_token");
  CHECK(http::bearer_check_name(http::BearerCheck::kWrong) == "wrong_token");
}

TEST_CASE("webhook routes: repeated 401s are counted by reason and logged once a minute") {
  Fixture f;
  f.routes(kToken);
  for (int i = 0; i < 50; ++i) {
    CHECK(f.send(post("/v1/alertmanager", payload("firing", kMatching), "guess")).status == 401);
    CHECK(f.send(post("/v1/defrag", "", "")).status == 401);
  }
  CHECK(std::count(f.refusals.begin(), f.refusals.end(), "wrong_token") == 50);
  CHECK(std::count(f.refusals.begin(), f.refusals.end(), "missing_token") == 50);
  // One line per reason, naming the client and the route, never what it sent.
  REQUIRE(f.said.size() == 2);
  CHECK_THAT(f.said[0], Catch::StartsWith("webhook: 401 from ") &&
                            Catch::Contains("/v1/alertmanager (wrong_token)"));
  CHECK_THAT(f.said[1], Catch::Contains("/v1/defrag (missing_token)"));
  f.clock.advance(std::chrono::minutes(1));
  CHECK(f.send(post("/v1/alertmanager", payload("firing", kMatching), "guess")).status == 401);
  REQUIRE(f.said.size() == 3);
  CHECK_THAT(f.said[2], Catch::Contains("(wrong_token) (49 more since the last such line)"));
  for (const auto& line : f.said) CHECK_THAT(line, !Catch::Contains("guess"));
  CHECK_FALSE(f.loop->run_pending());
}

TEST_CASE("webhook routes: without a token file the routes do not exist") {
  Fixture f;
  f.routes("");
  CHECK(f.send(post("/v1/alertmanager", payload("firing", kMatching), "")).status == 404);
  CHECK(f.send(post("/v1/defrag", "", "")).status == 404);
}

TEST_CASE("webhook routes: a wrong or missing token is 401 and queues nothing") {
  Fixture f;
  f.routes(kToken);
  const auto missing = f.send(post("/v1/alertmanager", payload("firing", kMatching), ""));
  CHECK(missing.status == 401);
  const auto wrong = f.send(post("/v1/alertmanager", payload("firing", kMatching), "nope"));
  CHECK(wrong.status == 401);
  bool challenge = false;
  for (const auto& [k, v] : wrong.headers) challenge = challenge || (k == "WWW-Authenticate");
  CHECK(challenge);
  CHECK_FALSE(f.loop->run_pending());
  for (const auto& line : f.said) CHECK_THAT(line, !Catch::Contains(kToken));
}

TEST_CASE("webhook routes: a malformed payload is 400 and queues nothing") {
  Fixture f;
  f.routes(kToken);
  CHECK(f.send(post("/v1/alertmanager", "{not json", kToken)).status == 400);
  CHECK(f.send(post("/v1/alertmanager", payload("firing", kMatching, "2"), kToken)).status == 400);
  CHECK_FALSE(f.loop->run_pending());
}

TEST_CASE("webhook routes: a matching firing alert queues one run, repeats coalesce") {
  Fixture f;
  f.routes(kToken);
  const auto first = f.send(post("/v1/alertmanager", payload("firing", kMatching), kToken));
  CHECK(first.status == 202);
  CHECK_THAT(first.body, Catch::Contains(R"("coalesced":false)"));
  CHECK(f.loop->run_pending());
  CHECK(f.wakes == 1);
  const auto repeat = f.send(post("/v1/alertmanager", payload("firing", kMatching), kToken));
  CHECK(repeat.status == 202);
  CHECK_THAT(repeat.body, Catch::Contains(R"("coalesced":true)"));

  const service::StepResult r = f.loop->step();
  CHECK(r.decision == service::Decision::kRan);
  CHECK(f.cluster.events_starting_with("defragment").size() == 3);
  CHECK_FALSE(f.loop->run_pending());
}

TEST_CASE("webhook routes: resolved or non-matching alerts are acknowledged and do nothing") {
  Fixture f;
  f.routes(kToken);
  CHECK(f.send(post("/v1/alertmanager", payload("resolved", kMatching), kToken)).status == 200);
  CHECK(f.send(post("/v1/alertmanager", payload("firing", R"({"alertname":"Other"})"), kToken))
            .status == 200);
  CHECK_FALSE(f.loop->run_pending());
}

TEST_CASE("webhook routes: the operator's dry run returns the plan with the leader last") {
  Fixture f;
  f.routes(kToken);
  (void)f.loop->step();  // a poll, so the plan has members
  const auto r = f.send(post("/v1/defrag", "", kToken, "dry_run=1"));
  CHECK(r.status == 200);
  const auto last_entry = r.body.rfind(R"("endpoint":)");
  CHECK(r.body.find(R"("isLeader":true)", last_entry) != std::string::npos);
  CHECK_FALSE(f.loop->run_pending());
  const auto run = f.send(post("/v1/defrag", "", kToken));
  CHECK(run.status == 202);
  CHECK(f.loop->run_pending());
}

TEST_CASE("webhook: the dry-run plan shows the members the reclaim floor holds back") {
  Fixture f;
  service::LoopSettings s;
  s.seeds = {edd::test::kEtcd1, edd::test::kEtcd2, edd::test::kEtcd3};
  s.local_endpoint = edd::test::kEtcd1;
  s.identity = "me";
  s.run.min_reclaim.bytes = 100'000'000;  // each member would give back 60 MB
  f.loop->replace_settings(s);
  f.routes(kToken);
  (void)f.loop->step();
  const auto r = f.send(post("/v1/defrag", "", kToken, "dry_run=1"));
  CHECK(r.status == 200);
  CHECK_THAT(r.body, Catch::Contains(R"x("action":"skip (reclaim floor)")x"));
  CHECK_THAT(r.body, Catch::Contains("would give back 60 MB"));
  CHECK(r.body.find(R"("action":"defragment")") == std::string::npos);
}
