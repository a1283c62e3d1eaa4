#include "support/data_digest.h"

#include <boost/json.hpp>

#include "support/base64.h"

namespace edd::test {

void DigestBuilder::hash_byte(unsigned char byte) {
  digest_.checksum ^= byte;
  digest_.checksum *= 0x100000001b3ULL;  // FNV-1a's 64-bit prime
}

void DigestBuilder::hash(std::string_view bytes) {
  for (char c : bytes) hash_byte(static_cast<unsigned char>(c));
}

void DigestBuilder::add(std::string_view key, std::string_view value) {
  hash(key);
  hash_byte(0xff);
  hash(value);
  hash_byte(0xff);
  ++digest_.key_count;
}

DataDigest digest_etcdctl_json(const std::string& json, const SkipKey& skip) {
  const boost::json::value reply = boost::json::parse(json);
  DigestBuilder builder;
  const boost::json::value* kvs = reply.as_object().if_contains("kvs");
  if (kvs == nullptr) return builder.digest();  // an empty keyspace has no "kvs"
  for (const boost::json::value& kv : kvs->as_array()) {
    const auto& fields = kv.as_object();
    const std::string_view key = fields.at("key").as_string();
    if (skip && skip(base64_decode(key))) continue;
    const boost::json::value* value = fields.if_contains("value");  // absent when empty
    builder.add(key, value != nullptr ? std::string_view(value->as_string()) : "");
  }
  return builder.digest();
}

}  // namespace edd::test
