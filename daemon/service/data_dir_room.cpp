#include "service/data_dir_room.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace edd::service {

Result<defrag::DiskRoom> measure_data_dir(const std::string& data_dir, std::int64_t unix_seconds) {
  struct statvfs fs {};
  if (statvfs(data_dir.c_str(), &fs) != 0) {
    const int err = errno;
    return make_error(
        ErrorCode::kNotFound,
        "etcd.data_dir " + data_dir + ": cannot read its free space: " + std::strerror(err));
  }
  defrag::DiskRoom room;
  room.free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  room.unix_seconds = unix_seconds;
  room.data_dir = data_dir;
  char host[256] = {};
  room.host = gethostname(host, sizeof host - 1) == 0 ? host : "unknown-host";
  return room;
}

}  // namespace edd::service
