// A digest of an etcd keyspace, to check that a defrag (or a fault during one) changed no key
// and no value: the same digest before and after, through the cluster and from each member's own
// copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace edd::test {

struct DataDigest {
  std::size_t key_count = 0;
  std::uint64_t checksum = 0;  // FNV-1a over every key and value, in key order
  bool operator==(const DataDigest&) const = default;
};

// Builds a DataDigest one key-value pair at a time, in key order.
class DigestBuilder {
 public:
  // FNV-1a over the key, a separator, the value, a separator. The separator is the byte 0xff,
  // which neither base64 nor UTF-8 text contains, so no key or value can run into the next.
  void add(std::string_view key, std::string_view value);
  const DataDigest& digest() const { return digest_; }

 private:
  void hash(std::string_view bytes);
  void hash_byte(unsigned char byte);

  DataDigest digest_{0, 0xcbf29ce484222325ULL};  // FNV-1a's offset basis
};

// Keys (decoded) that a digest leaves out, e.g. those a load or the daemon changes by design.
using SkipKey = std::function<bool(std::string_view key)>;

// The digest of `etcdctl get "" --prefix -w json` output: keys and values hashed as etcdctl
// prints them (base64), so equal data gives equal text. Throws on text that is not its JSON.
DataDigest digest_etcdctl_json(const std::string& json, const SkipKey& skip = {});

}  // namespace edd::test
