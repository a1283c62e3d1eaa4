// The few file checks the config needs: is a path a readable regular file, with which permission
// bits, and reading small files (the config itself, secrets). Only regular files are ever opened
// (a FIFO would hang the loader, a device may act on open). Thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "common/result.h"

namespace edd::config {

// The file's permission bits (e.g. 0640) when `path` opens for reading and is a regular file;
// kInvalidArgument `cannot read "/x": No such file or directory` or `"/x" is not a regular file`.
Result<unsigned> check_readable_file(const std::string& path);

struct FileContents {
  std::string bytes;
  unsigned mode = 0;  // permission bits
};

// The whole file, refused when longer than max_bytes; errors as check_readable_file, never
// quoting the contents.
Result<FileContents> read_small_file(const std::string& path, std::size_t max_bytes);

// "0644"
std::string format_mode(unsigned mode);

}  // namespace edd::config
