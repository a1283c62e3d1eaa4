#include "http/message.h"

#include <algorithm>
#include <cctype>

namespace edd::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

Response Response::text(unsigned status, std::string body) {
  if (body.empty() || body.back() != '\n') body += '\n';
  return Response{status, "text/plain; charset=utf-8", std::move(body), {}};
}

Response Response::json(unsigned status, std::string body) {
  return Response{status, "application/json", std::move(body), {}};
}

}  // namespace edd::http
