#include "http/bearer_auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>

namespace edd::http {
namespace {

std::array<unsigned char, SHA256_DIGEST_LENGTH> digest(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

Result<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kInvalidArgument, "cannot read token file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty())
    return make_error(ErrorCode::kInvalidArgument, "token file " + path + " is empty");
  return token;
}

std::string_view bearer_check_name(BearerCheck check) {
  switch (check) {
    case BearerCheck::kAccepted:
      return "accepted";
    case BearerCheck::kMissing:
      return "missing_token";
    case BearerCheck::kWrong:
      return "wrong_token";
  }
  return "wrong_token";
}

BearerCheck check_bearer(const Request& request, std::string_view token) {
  for (const auto& [name, value] : request.headers) {
    if (!iequals(name, "authorization")) continue;
    std::string_view v = value;
    if (v.size() < 7 || !iequals(v.substr(0, 7), "bearer ")) return BearerCheck::kMissing;
    v.remove_prefix(7);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    if (v.empty()) return BearerCheck::kMissing;
    if (token.empty()) return BearerCheck::kWrong;
    const auto a = digest(v);
    const auto b = digest(token);
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0 ? BearerCheck::kAccepted
                                                            : BearerCheck::kWrong;
  }
  return BearerCheck::kMissing;
}

bool bearer_matches(const Request& request, std::string_view token) {
  return check_bearer(request, token) == BearerCheck::kAccepted;
}

}  // namespace edd::http
