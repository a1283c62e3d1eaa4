// The whole suite's secrets check. The harness records every secret a test makes (passwords,
// webhook tokens, a line of each private key) and everything a user or an operator could read
// (every command's output, every log file of a cluster, its daemons, Prometheus and
// Alertmanager). At the end of a ctest run, `secrets_grep_whole_suite` (tests/secrets_grep.sh)
// greps the second for the first. Records go to EDD_TEST_RECORD_DIR (set by CMake; the
// `secrets_record_reset` fixture empties it before each ctest run).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace edd::test {

// A secret no output may contain (nothing is recorded for an empty one).
void remember_secret(std::string_view secret);

// A new random secret (48 hex digits from /dev/urandom), already remembered: a webhook token.
std::string new_secret_token();

// A private key's secret part: its first base64 line.
void remember_key_file(const std::filesystem::path& pem_file);

// Output a user could read (a command's stdout and stderr, an HTTP answer).
void remember_output(std::string_view text);

// Copies every regular file named *.log below dir into the record, before dir is removed.
void remember_logs(const std::filesystem::path& dir);

}  // namespace edd::test
