#include "harness/test_record.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace fs = std::filesystem;

namespace edd::test {
namespace {

// Empty when the harness is built without a record directory (it always is by our CMake).
fs::path record_dir() {
#ifdef EDD_TEST_RECORD_DIR
  return EDD_TEST_RECORD_DIR;
#else
  return {};
#endif
}

// The files this process writes to; one set per process so parallel tests never interleave.
fs::path seen_dir() {
  const fs::path dir = record_dir();
  if (dir.empty()) return {};
  std::error_code ignored;
  fs::create_directories(dir / "seen", ignored);
  return dir / "seen";
}

void append(const fs::path& file, std::string_view text) {
  std::ofstream out(file, std::ios::app | std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace

void remember_secret(std::string_view secret) {
  const fs::path dir = record_dir();
  if (dir.empty() || secret.empty()) return;
  std::error_code ignored;
  fs::create_directories(dir, ignored);
  append(dir / "secrets", std::string(secret) + "\n");
}

void remember_key_file(const fs::path& pem_file) {
  std::ifstream in(pem_file);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.rfind("-----", 0) != 0) {
      remember_secret(line);
      return;
    }
  }
}

void remember_output(std::string_view text) {
  const fs::path dir = seen_dir();
  if (dir.empty() || text.empty()) return;
  append(dir / ("output-" + std::to_string(::getpid()) + ".txt"), text);
}

void remember_logs(const fs::path& dir) {
  const fs::path into = seen_dir();
  if (into.empty()) return;
  static int copies = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != ".log") continue;
    const std::string name = std::to_string(::getpid()) + "-" + std::to_string(++copies) + "-" +
                             it->path().filename().string();
    std::error_code ignored;
    fs::copy_file(it->path(), into / name, ignored);
  }
}

std::string new_secret_token() {
  std::ifstream in("/dev/urandom", std::ios::binary);
  unsigned char bytes[24];
  in.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  if (!in) throw std::runtime_error("cannot read /dev/urandom");
  std::string hex_text;
  for (unsigned char b : bytes) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", b);
    hex_text += two;
  }
  remember_secret(hex_text);
  return hex_text;
}

}  // namespace edd::test
