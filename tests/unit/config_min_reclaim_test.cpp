// policy.min_reclaim, the reclaim floor: its default, the spellings it takes and its bad values.
#include <catch2/catch.hpp>

#include <string>

#include "config/loader.h"

using edd::config::load_config_string;

namespace {

std::string one_error(const std::string& value) {
  const auto r = load_config_string("[policy]\nmin_reclaim = " + value + "\n", "t.toml");
  INFO(value);
  REQUIRE(r.errors.size() == 1);
  CHECK_FALSE(r.config.has_value());
  return r.errors[0];
}

}  // namespace

TEST_CASE("the daemon's reclaim floor defaults to 2% of the quota") {
  const auto r = load_config_string("", "t.toml");
  REQUIRE(r.config.has_value());
  const auto& floor = r.config->policy.min_reclaim;
  CHECK(floor.quota_ratio == Approx(0.02));
  CHECK(floor.bytes == 0);
  // The default rule's "dbSizeFree > 200 MiB" still defragments an 8 GiB quota's member.
  CHECK(floor.bytes_for(8LL << 30) < 200LL << 20);
  CHECK(floor.bytes_for(2LL << 30) > 40'000'000);
}

TEST_CASE("policy.min_reclaim takes a size, a share of the quota or bytes") {
  auto floor = [](const std::string& value) {
    const auto r = load_config_string("[policy]\nmin_reclaim = " + value + "\n", "t.toml");
    for (const auto& e : r.errors) UNSCOPED_INFO(e);
    REQUIRE(r.config.has_value());
    return r.config->policy.min_reclaim;
  };
  CHECK(floor("\"64MiB\"").bytes == 64LL << 20);
  CHECK(floor("\"64MiB\"").quota_ratio == 0);
  CHECK(floor("\"50 MB\"").bytes == 50'000'000);
  CHECK(floor("\"5%\"").quota_ratio == Approx(0.05));
  CHECK(floor("\"5%\"").bytes == 0);
  CHECK(floor("1048576").bytes == 1048576);
  CHECK(floor("0").is_zero());
  CHECK(floor("\"0\"").is_zero());
}

TEST_CASE("policy.min_reclaim rejects bad values in one line naming the key") {
  for (const char* v : {"\"-1MiB\"", "\"64 parsecs\"", "\"%\"", "\"60%\"", "\"2TiB\"", "\"\"",
                        "\"1e9\"", "\"1..2MB\"", "-5"}) {
    CHECK_THAT(one_error(v), Catch::StartsWith("t.toml:2:15: policy.min_reclaim: "));
    CHECK(one_error(v).find('\n') == std::string::npos);
  }
  CHECK_THAT(one_error("\"60%\""), Catch::Contains("at most 50% of the quota"));
  CHECK_THAT(one_error("\"64 parsecs\""), Catch::Contains("unknown unit"));
  CHECK_THAT(one_error("true"), Catch::StartsWith("t.toml:2:15: policy.min_reclaim: "));
  CHECK_THAT(one_error("0.5"), Catch::StartsWith("t.toml:2:15: policy.min_reclaim: "));
}
