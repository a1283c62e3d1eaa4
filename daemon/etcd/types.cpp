#include "etcd/types.h"

#include "etcd/member_snapshot.h"

#include <cstdio>

namespace edd::etcd {

std::string alarm_name(AlarmType type) {
  switch (type) {
    case AlarmType::kNone:
      return "NONE";
    case AlarmType::kNoSpace:
      return "NOSPACE";
    case AlarmType::kCorrupt:
      return "CORRUPT";
    case AlarmType::kUnknown:
      break;
  }
  return "UNKNOWN";
}

std::string member_id_hex(std::uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string quota_source_name(QuotaSource source) {
  switch (source) {
    case QuotaSource::kStatus:
      return "status";
    case QuotaSource::kMetrics:
      return "metrics";
    case QuotaSource::kFlag:
      break;
  }
  return "flag";
}

std::string prefix_range_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& last = end.back();
    if (static_cast<unsigned char>(last) < 0xff) {
      last = static_cast<char>(static_cast<unsigned char>(last) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

}  // namespace edd::etcd
