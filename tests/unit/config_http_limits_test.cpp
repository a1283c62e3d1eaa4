// [http]'s caps and deadlines against clients that hold connections open: defaults an operator
// need not touch, each key parsed, and a bad value one line naming the key.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "config/loader.h"

using edd::config::load_config_string;
using namespace std::chrono_literals;

namespace {

// The one error `toml` gives; fails the test when there are none or several.
std::string only_error(const std::string& toml) {
  const auto r = load_config_string(toml, "t.toml");
  INFO(toml);
  for (const auto& e : r.errors) UNSCOPED_INFO(e);
  REQUIRE(r.errors.size() == 1);
  CHECK_FALSE(r.config.has_value());
  CHECK(r.errors[0].find('\n') == std::string::npos);
  return r.errors[0];
}

std::string http_error(const std::string& key, const std::string& value) {
  return only_error("[http]\n" + key + " = " + value + "\n");
}

}  // namespace

TEST_CASE("a config's http limits default to what the listener needs under attack") {
  const auto r = load_config_string("", "t.toml");
  REQUIRE(r.config.has_value());
  const auto& h = r.config->http;
  CHECK(h.max_connections == 256);
  CHECK(h.max_connections_per_address == 32);
  CHECK(h.request_head_timeout == 5s);
  CHECK(h.idle_timeout == 30s);
  CHECK(h.tls_handshake_timeout == 5s);
}

TEST_CASE("a config sets every http limit") {
  const auto r = load_config_string(
      "[http]\nmax_connections = 1024\nmax_connections_per_address = 64\n"
      "request_head_timeout = \"2s\"\nidle_timeout = \"2m\"\ntls_handshake_timeout = \"3s\"\n",
      "t.toml");
  for (const auto& e : r.errors) UNSCOPED_INFO(e);
  REQUIRE(r.config.has_value());
  const auto& h = r.config->http;
  CHECK(h.max_connections == 1024);
  CHECK(h.max_connections_per_address == 64);
  CHECK(h.request_head_timeout == 2s);
  CHECK(h.idle_timeout == 120s);
  CHECK(h.tls_handshake_timeout == 3s);
}

TEST_CASE("a config rejects bad http limits with one line naming the key") {
  CHECK(http_error("max_connections", "0") ==
        "t.toml:2:19: http.max_connections: must be between 1 and 16384 connections, got 0");
  CHECK(http_error("max_connections", "100000") ==
        "t.toml:2:19: http.max_connections: must be between 1 and 16384 connections, got "
        "100000");
  CHECK(http_error("max_connections", "\"256\"") ==
        "t.toml:2:19: http.max_connections: expected an integer number of connections, got a "
        "string");
  CHECK(http_error("max_connections_per_address", "-1") ==
        "t.toml:2:31: http.max_connections_per_address: must be between 1 and 16384 "
        "connections, got -1");
  CHECK(only_error("[http]\nmax_connections = 16\nmax_connections_per_address = 32\n") ==
        "t.toml:3:31: http.max_connections_per_address: must not exceed http.max_connections "
        "(16)");
  // Against the default global cap too.
  CHECK(http_error("max_connections_per_address", "300") ==
        "t.toml:2:31: http.max_connections_per_address: must not exceed http.max_connections "
        "(256)");
  CHECK(http_error("request_head_timeout", "\"0s\"") ==
        "t.toml:2:24: http.request_head_timeout: must be at least 100ms, got \"0s\"");
  CHECK(http_error("idle_timeout", "\"2h\"") ==
        "t.toml:2:16: http.idle_timeout: must be at most 1h0m0s, got \"2h\"");
  CHECK(http_error("tls_handshake_timeout", "5") ==
        "t.toml:2:25: http.tls_handshake_timeout: expected a duration string such as \"30s\", "
        "got an integer");
}
