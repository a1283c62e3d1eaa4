#include <catch2/catch.hpp>

#include "service/last_run_json.h"

using edd::service::decode_last_run_json;
using edd::service::encode_last_run_json;
using edd::service::LastRun;

TEST_CASE("the last-run record keeps the JSON every daemon version writes and reads") {
  const LastRun run{1'700'000'060, "success", "host-a/etcd-1", "rule"};
  CHECK(encode_last_run_json(run) ==
        R"({"time":1700000060,"result":"success","actor":"host-a/etcd-1","trigger":"rule"})");
  const auto back = decode_last_run_json(encode_last_run_json(run));
  REQUIRE(back);
  CHECK(back->unix_seconds == run.unix_seconds);
  CHECK(back->result == run.result);
  CHECK(back->actor == run.actor);
  CHECK(back->trigger == run.trigger);
}

TEST_CASE("a last-run value that is not a JSON object is not a record") {
  CHECK_FALSE(decode_last_run_json("not json"));
  CHECK_FALSE(decode_last_run_json("[1,2]"));
  CHECK_FALSE(decode_last_run_json(""));
}

TEST_CASE("a missing or mistyped field of the last-run record keeps its default") {
  const auto partial = decode_last_run_json(R"({"time":"soon","result":7,"actor":"b"})");
  REQUIRE(partial);
  CHECK(partial->unix_seconds == 0);
  CHECK(partial->result.empty());
  CHECK(partial->actor == "b");
  CHECK(partial->trigger.empty());
}
