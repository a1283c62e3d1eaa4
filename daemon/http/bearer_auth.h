// Bearer-token checks for the webhook and /v1/defrag: the token from a file, compared in
// constant time (SHA-256 of both, then CRYPTO_memcmp) so timing tells nothing about it.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "http/message.h"

namespace edd::http {

// Reads the token (one trailing newline stripped); errors name the file, never its content.
Result<std::string> read_token_file(const std::string& path);

// Why a request was refused, for the 401 counter and log: a client that sends no credentials
// (a misconfigured Alertmanager) is told apart from one that sends wrong ones (a stale token or
// someone guessing). Which one depends only on the header's shape, never on the token compared.
enum class BearerCheck {
  kAccepted,
  kMissing,  // no Authorization header, another scheme, or an empty token
  kWrong,    // a bearer token that is not ours
};

// "missing_token" or "wrong_token" (the label of the 401 counter); "accepted" for kAccepted.
std::string_view bearer_check_name(BearerCheck check);

BearerCheck check_bearer(const Request& request, std::string_view token);

// True when the request carries `Authorization: Bearer <token>`.
bool bearer_matches(const Request& request, std::string_view token);

}  // namespace edd::http
