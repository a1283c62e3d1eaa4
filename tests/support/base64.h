// Base64 as etcd's JSON gateway and `etcdctl -w json` write keys and values (RFC 4648, with
// padding).
#pragma once

#include <string>
#include <string_view>

namespace edd::test {

std::string base64_encode(std::string_view bytes);
// Skips what is not a base64 digit ('=' padding included).
std::string base64_decode(std::string_view text);

}  // namespace edd::test
