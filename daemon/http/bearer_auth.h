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

// True when the request carries `Authorization: Bearer <token>`.
bool bearer_matches(const Request& request, std::string_view token);

}  // namespace edd::http
