// The paced, paginated scan behind `usage`: serializable Range pages from one member, all at the
// revision of the first page (so the pages are one consistent picture), each page starting
// after the last key of the one before, paced to a rate of keys per second. Pure: etcd through
// KeyScanner, time through Clock. Not thread-safe (one scan per call).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "etcd/key_scanner.h"

namespace edd::usage {

struct ScanOptions {
  std::string endpoint;
  std::string prefix;  // "" scans every key
  std::int64_t page_size = 1000;
  double rate_keys_per_second = 0;  // 0: unpaced
  // A page whose values add up to more halves the next page's key limit (down to 1); pages
  // under a quarter of it double it again (up to page_size). etcd builds each response in
  // memory, and so do we: Kubernetes values range from bytes to 1.5 MiB.
  std::int64_t max_page_bytes = std::int64_t{16} << 20;
};

struct ScanProgress {
  std::int64_t keys = 0;
  std::int64_t pages = 0;
  std::int64_t value_bytes = 0;
  std::int64_t revision = 0;
  std::chrono::milliseconds elapsed{0};
};

struct ScanHooks {
  std::function<void(const etcd::ScannedKey&)> on_key{};
  std::function<void(const ScanProgress&)> on_page{};  // optional, after each page
  std::function<bool()> keep_going{};                  // optional: false stops before a page
};

// The key limit of the page after one of `limit` keys and `page_bytes` bytes of values.
std::int64_t next_page_limit(std::int64_t limit, std::int64_t page_bytes,
                             const ScanOptions& options);

// The range [key, range_end) holding every key that starts with prefix ("" = every key).
etcd::PageRequest first_page(const std::string& prefix, std::int64_t page_size);

// Where a scan stands between slices (the daemon scans a slice per step, so polls go on): the
// next page to ask for and what was read so far. progress.elapsed counts reading time only.
struct ScanCursor {
  etcd::PageRequest next;
  ScanProgress progress;
  bool done = false;
};
ScanCursor start_scan(const ScanOptions& options);

// Reads pages until the scan is done or keep_going() says stop (asked before each page); the
// pacing holds within the slice. A failed page is returned as is and leaves the cursor where
// it was (kCompacted: the scan's revision is gone, start again).
Status continue_scan(etcd::KeyScanner& scanner, Clock& clock, const ScanOptions& options,
                     ScanCursor& cursor, const ScanHooks& hooks);

// The whole scan in one go. Returns the final progress (keys, pages, revision, duration). A page
// that fails ends the scan with its error (kCompacted when the scan's revision was compacted
// meanwhile); a scan stopped by keep_going is a kFailedPrecondition error.
Result<ScanProgress> scan_keys(etcd::KeyScanner& scanner, Clock& clock, const ScanOptions& options,
                               const ScanHooks& hooks);

}  // namespace edd::usage
