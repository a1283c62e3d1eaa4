#include "usage/scan.h"

#include <algorithm>

#include "etcd/types.h"

namespace edd::usage {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Sleeps until `keys` are no more than the rate allows since the start.
void pace(Clock& clock, Clock::time_point start, std::int64_t keys, double rate) {
  if (rate <= 0) return;
  const auto due = start + duration_cast<Clock::time_point::duration>(
                               std::chrono::duration<double>(static_cast<double>(keys) / rate));
  const auto now = clock.now();
  if (due > now) clock.sleep_for(duration_cast<milliseconds>(due - now) + milliseconds(1));
}

}  // namespace

std::int64_t next_page_limit(std::int64_t limit, std::int64_t page_bytes,
                             const ScanOptions& options) {
  if (page_bytes > options.max_page_bytes) return std::max<std::int64_t>(1, limit / 2);
  if (page_bytes < options.max_page_bytes / 4) return std::min(options.page_size, limit * 2);
  return limit;
}

etcd::PageRequest first_page(const std::string& prefix, std::int64_t page_size) {
  etcd::PageRequest req;
  req.limit = page_size;
  if (prefix.empty()) {
    req.key = std::string(1, '\0');
    req.range_end = std::string(1, '\0');
  } else {
    req.key = prefix;
    req.range_end = etcd::prefix_range_end(prefix);
  }
  return req;
}

ScanCursor start_scan(const ScanOptions& options) {
  return {first_page(options.prefix, options.page_size), {}, false};
}

Status continue_scan(etcd::KeyScanner& scanner, Clock& clock, const ScanOptions& options,
                     ScanCursor& cursor, const ScanHooks& hooks) {
  const auto slice_start = clock.now();
  auto mark = slice_start;
  std::int64_t slice_keys = 0;
  auto account = [&] {
    const auto now = clock.now();
    cursor.progress.elapsed += duration_cast<milliseconds>(now - mark);
    mark = now;
  };
  while (!cursor.done) {
    if (hooks.keep_going && !hooks.keep_going()) break;
    auto page = scanner.range_page(options.endpoint, cursor.next);
    if (!page) {
      account();
      return page.error();
    }
    ScanProgress& p = cursor.progress;
    if (p.pages == 0) p.revision = page->revision;
    ++p.pages;
    std::int64_t page_bytes = 0;
    for (const auto& key : page->keys) {
      ++p.keys;
      page_bytes += key.value_bytes;
      if (hooks.on_key) hooks.on_key(key);
    }
    p.value_bytes += page_bytes;
    slice_keys += static_cast<std::int64_t>(page->keys.size());
    account();
    if (hooks.on_page) hooks.on_page(p);
    if (!page->more || page->keys.empty()) {
      cursor.done = true;
      break;
    }
    // The next page: just after this page's last key, at the first page's revision.
    cursor.next.key = page->keys.back().key + std::string(1, '\0');
    cursor.next.revision = p.revision;
    cursor.next.limit = next_page_limit(cursor.next.limit, page_bytes, options);
    pace(clock, slice_start, slice_keys, options.rate_keys_per_second);
    account();
  }
  return {};
}

Result<ScanProgress> scan_keys(etcd::KeyScanner& scanner, Clock& clock, const ScanOptions& options,
                               const ScanHooks& hooks) {
  ScanCursor cursor = start_scan(options);
  if (auto s = continue_scan(scanner, clock, options, cursor, hooks); !s) return s.error();
  if (!cursor.done) return make_error(ErrorCode::kFailedPrecondition, "usage scan stopped");
  return cursor.progress;
}

}  // namespace edd::usage
