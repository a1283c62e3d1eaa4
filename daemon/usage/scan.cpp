#include "usage/scan.h"

namespace edd::usage {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// etcd's prefix end: the prefix with its last byte below 0xff incremented, the rest dropped.
std::string range_end_of(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key after the prefix
}

// Sleeps until `keys` are no more than the rate allows since the start.
void pace(Clock& clock, Clock::time_point start, std::int64_t keys, double rate) {
  if (rate <= 0) return;
  const auto due = start + duration_cast<Clock::time_point::duration>(
                               std::chrono::duration<double>(static_cast<double>(keys) / rate));
  const auto now = clock.now();
  if (due > now) clock.sleep_for(duration_cast<milliseconds>(due - now) + milliseconds(1));
}

}  // namespace

etcd::PageRequest first_page(const std::string& prefix, std::int64_t page_size) {
  etcd::PageRequest req;
  req.limit = page_size;
  if (prefix.empty()) {
    req.key = std::string(1, '\0');
    req.range_end = std::string(1, '\0');
  } else {
    req.key = prefix;
    req.range_end = range_end_of(prefix);
  }
  return req;
}

Result<ScanProgress> scan_keys(etcd::KeyScanner& scanner, Clock& clock, const ScanOptions& options,
                               const ScanHooks& hooks) {
  const auto start = clock.now();
  ScanProgress progress;
  etcd::PageRequest req = first_page(options.prefix, options.page_size);
  for (;;) {
    if (hooks.keep_going && !hooks.keep_going()) {
      return make_error(ErrorCode::kFailedPrecondition, "usage scan stopped");
    }
    auto page = scanner.range_page(options.endpoint, req);
    if (!page) return page.error();
    if (progress.pages == 0) progress.revision = page->revision;
    ++progress.pages;
    for (const auto& key : page->keys) {
      ++progress.keys;
      progress.value_bytes += key.value_bytes;
      if (hooks.on_key) hooks.on_key(key);
    }
    progress.elapsed = duration_cast<milliseconds>(clock.now() - start);
    if (hooks.on_page) hooks.on_page(progress);
    if (!page->more || page->keys.empty()) break;
    // The next page: just after this page's last key, at the first page's revision.
    req.key = page->keys.back().key + std::string(1, '\0');
    req.revision = progress.revision;
    pace(clock, start, progress.keys, options.rate_keys_per_second);
  }
  progress.elapsed = duration_cast<milliseconds>(clock.now() - start);
  return progress;
}

}  // namespace edd::usage
