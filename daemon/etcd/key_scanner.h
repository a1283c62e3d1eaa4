// One page of a key range read from one member, as `usage` needs it: each key's size and
// version, never its value (the value's bytes are counted, then dropped). A narrow interface so
// the scan and the aggregation are tested with a fake. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace edd::etcd {

struct ScannedKey {
  std::string key;
  std::int64_t value_bytes = 0;
  std::int64_t version = 0;  // etcd's per-key version: writes since the key was created
};

struct PageRequest {
  std::string key;        // the first key of the page (inclusive)
  std::string range_end;  // exclusive; "" with key "\0" means every key (etcd's convention)
  std::int64_t limit = 0;
  std::int64_t revision = 0;  // 0: the member's current revision
};

struct ScanPage {
  std::vector<ScannedKey> keys;  // in key order
  bool more = false;             // etcd has more keys in the range after this page
  std::int64_t revision = 0;     // the header's revision the page was read at
};

class KeyScanner {
 public:
  virtual ~KeyScanner() = default;
  // One serializable Range on `endpoint` (that member's own data, no round to the leader).
  virtual Result<ScanPage> range_page(const std::string& endpoint, const PageRequest& request) = 0;
};

}  // namespace edd::etcd
