// Reading what the processes under test write: their logs, configs and /proc files. Free
// functions without shared state.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace edd::test {

// The whole file, byte for byte; "" when it cannot be read (a log not created yet reads as empty,
// which is what a test polling it wants).
std::string read_file(const std::string& path);

// The lines of text, without their '\n'.
std::vector<std::string> lines_of(const std::string& text);

// The last `lines` lines of a log under a "--- last lines of <path> ---" title, for a failure
// message; says so when the file does not exist.
std::string log_tail(const std::string& path, std::size_t lines = 15);

// True when some line of the file contains needle.
bool file_contains(const std::string& path, const std::string& needle);

// A fresh directory $TMPDIR/<stem>-XXXXXX (or under /tmp). Throws std::runtime_error.
std::string make_temp_dir(const std::string& stem);

// parts joined with separator between them.
std::string join(const std::vector<std::string>& parts, const std::string& separator);

}  // namespace edd::test
