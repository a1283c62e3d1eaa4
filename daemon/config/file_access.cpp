#include "config/file_access.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace edd::config {
namespace {

Error cannot_read(const std::string& path, int err) {
  return make_error(ErrorCode::kInvalidArgument,
                    "cannot read \"" + path + "\": " + std::string(std::strerror(err)));
}

// Owns a file descriptor for the length of one call.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

constexpr int kNotRegular = -2;  // a file descriptor value open() never returns

// Opening a device can have effects (a watchdog starts ticking): look before opening.
int open_if_regular(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  if (!S_ISREG(st.st_mode)) {
    return kNotRegular;
  }
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

Error not_regular(const std::string& path) {
  return make_error(ErrorCode::kInvalidArgument, "\"" + path + "\" is not a regular file");
}

Result<unsigned> open_regular(const std::string& path, Fd& fd) {
  if (fd.get() == kNotRegular) return not_regular(path);
  if (fd.get() < 0) return cannot_read(path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return cannot_read(path, errno);
  if (!S_ISREG(st.st_mode)) return not_regular(path);
  return static_cast<unsigned>(st.st_mode & 07777);
}

}  // namespace

Result<unsigned> check_readable_file(const std::string& path) {
  Fd fd(open_if_regular(path));
  return open_regular(path, fd);
}

Result<FileContents> read_small_file(const std::string& path, std::size_t max_bytes) {
  Fd fd(open_if_regular(path));
  auto mode = open_regular(path, fd);
  if (!mode) return mode.error();
  FileContents out;
  out.mode = *mode;
  char buf[8192];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return cannot_read(path, errno);
    }
    if (n == 0) break;
    if (out.bytes.size() + static_cast<std::size_t>(n) > max_bytes) {
      return make_error(ErrorCode::kInvalidArgument,
                        "\"" + path + "\" is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.bytes.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string format_mode(unsigned mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777U);
  return buf;
}

}  // namespace edd::config
