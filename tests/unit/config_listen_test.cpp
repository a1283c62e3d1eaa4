// The HTTP listen address: host:port, bracketed IPv6, and the errors an operator may hit.
#include <catch2/catch.hpp>

#include <string>

#include "config/listen_address.h"
#include "config/loader.h"

using namespace edd::config;

TEST_CASE("a config listen address parses IPv4, host names and bracketed IPv6") {
  struct Case {
    const char* text;
    const char* host;
    int port;
    bool loopback;
  };
  const Case cases[] = {
      {"127.0.0.1:9479", "127.0.0.1", 9479, true},
      {"0.0.0.0:9479", "0.0.0.0", 9479, false},
      {"localhost:80", "localhost", 80, true},
      {"metrics.example.com:9479", "metrics.example.com", 9479, false},
      {"[::1]:9479", "::1", 9479, true},
      {"[::]:9479", "::", 9479, false},
      {"[fe80::1:2]:65535", "fe80::1:2", 65535, false},
      {"[::ffff:10.0.0.1]:1", "::ffff:10.0.0.1", 1, false},
      {"127.0.0.1:0", "127.0.0.1", 0, true},
  };
  for (const auto& c : cases) {
    auto a = parse_listen_address(c.text);
    INFO(c.text);
    REQUIRE(a.has_value());
    CHECK(a->host == c.host);
    CHECK(a->port == c.port);
    CHECK(a->is_loopback() == c.loopback);
    CHECK(a->text() == c.text);
  }
}

TEST_CASE("a config listen address rejects what cannot be bound, saying why") {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"", "empty"},
      {"9479", "missing port"},
      {":9479", "missing host; use 0.0.0.0 or [::] to listen on every interface"},
      {"::1:9479", "IPv6 addresses need [brackets]"},
      {"[::1]9479", "missing port"},
      {"[::1:9479", "unbalanced '['"},
      {"[host]:9479", "not an IPv6 address in []"},
      {"127.0.0.1:", "bad port"},
      {"127.0.0.1:65536", "bad port"},
      {"127.0.0.1:-1", "bad port"},
      {"127.0.0.1:http", "bad port"},
      {"http://127.0.0.1:9479", "a scheme is not allowed"},
      {"a b:1", "bad character in host"},
  };
  for (const auto& c : cases) {
    auto a = parse_listen_address(c.text);
    INFO(c.text);
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().message == "invalid listen address \"" + std::string(c.text) + "\": " + c.why +
                                   " (expected host:port such as 127.0.0.1:9479 or [::1]:9479)");
  }
}

TEST_CASE("a config's http.listen is parsed and a bad one reported at its value") {
  auto r = load_config_string("[http]\nlisten = \"[::1]:9479\"\n", "h.toml");
  REQUIRE(r.config.has_value());
  CHECK(r.config->http.listen.host == "::1");
  CHECK(r.config->http.listen.port == 9479);
  r = load_config_string("[http]\nlisten = \"::1:9479\"\n", "h.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK_THAT(r.errors[0], Catch::StartsWith("h.toml:2:10: http.listen: invalid listen address "
                                            "\"::1:9479\": IPv6 addresses need [brackets]"));
}
