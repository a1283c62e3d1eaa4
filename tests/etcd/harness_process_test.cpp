// run_command, the harness's way to run etcdctl, openssl, curl and our own binary.
#include <catch2/catch.hpp>
#include <chrono>

#include "harness/process.h"

using edd::test::run_command;
using namespace std::chrono_literals;

TEST_CASE("harness run_command captures stdout, stderr and the exit code", "[harness]") {
  auto result = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"}, 10s);
  CHECK(result.exit_code == 3);
  CHECK(result.out == "out\n");
  CHECK(result.err == "err\n");
}

TEST_CASE("harness run_command feeds stdin and adds environment variables", "[harness]") {
  std::string big(1 << 20, 'x');  // more than a pipe buffer each way
  auto result = run_command({"sh", "-c", "echo \"$EDD_TEST_VAR\"; cat"}, 10s,
                            {{"EDD_TEST_VAR", "value"}}, big);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "value\n" + big);
}

TEST_CASE("harness run_command kills a command that outlives its timeout", "[harness]") {
  auto start = std::chrono::steady_clock::now();
  auto result = run_command({"sleep", "30"}, 300ms);
  CHECK(result.exit_code == -1);
  CHECK_THAT(result.err, Catch::Contains("timed out"));
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("harness run_command reports a missing program as exit code 127", "[harness]") {
  auto result = run_command({"edd-no-such-program"}, 10s);
  CHECK(result.exit_code == 127);
  CHECK_THAT(result.err, Catch::Contains("not found"));
}
