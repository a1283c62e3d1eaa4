#include "etcd/rpc_status.h"

namespace edd::etcd {
namespace {

bool says(std::string_view message, std::string_view phrase) {
  return message.find(phrase) != std::string_view::npos;
}

// etcd shares OutOfRange between a compacted and a future revision (and a too large lease TTL):
// only its text tells them apart.
ErrorCode out_of_range(std::string_view message) {
  if (says(message, "required revision has been compacted")) return ErrorCode::kCompacted;
  if (says(message, "required revision is a future revision")) return ErrorCode::kFutureRevision;
  return ErrorCode::kInternal;
}

// etcd answers a wrong password (and a missing user name) with InvalidArgument.
ErrorCode invalid_argument(std::string_view message) {
  if (says(message, "authentication failed") || says(message, "user name is empty")) {
    return ErrorCode::kUnauthenticated;
  }
  return ErrorCode::kInvalidArgument;
}

// An expired or unknown token is worth one new Authenticate; other refusals are final.
ErrorCode unauthenticated(std::string_view message) {
  if (says(message, "invalid auth token") || says(message, "expired")) {
    return ErrorCode::kAuthTokenInvalid;
  }
  return ErrorCode::kUnauthenticated;
}

}  // namespace

ErrorCode error_code_for(RpcCode code, std::string_view message) {
  switch (code) {
    case RpcCode::kUnavailable:
      return ErrorCode::kUnavailable;
    case RpcCode::kDeadlineExceeded:
      return ErrorCode::kDeadlineExceeded;
    case RpcCode::kPermissionDenied:
      return ErrorCode::kPermissionDenied;
    case RpcCode::kUnauthenticated:
      return unauthenticated(message);
    case RpcCode::kResourceExhausted:
      return ErrorCode::kNoSpace;
    case RpcCode::kInvalidArgument:
      return invalid_argument(message);
    case RpcCode::kFailedPrecondition:
      return ErrorCode::kFailedPrecondition;
    case RpcCode::kOutOfRange:
      return out_of_range(message);
    case RpcCode::kNotFound:
      return says(message, "requested lease not found") ? ErrorCode::kLeaseNotFound
                                                        : ErrorCode::kNotFound;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace edd::etcd
