// Where etcd's answers become our ErrorCodes: once, at the edge, so no decision in the daemon
// depends on etcd's wording and the fakes in the tests return codes, not etcd's strings. Pure: it
// takes the gRPC status as a number and a message, so it is tested without a channel or gRPC.
#pragma once

#include <string_view>

#include "common/result.h"

namespace edd::etcd {

// gRPC's canonical status codes (the same numbers in every gRPC implementation, and in
// grpc::StatusCode, which grpc_cluster_client.cpp checks at compile time).
enum class RpcCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// The code of a failed call: the gRPC code, refined by etcd's own error for the answers we act
// on (etcd's rpctypes: e.g. OutOfRange "etcdserver: mvcc: required revision has been compacted"
// is kCompacted, NotFound "etcdserver: requested lease not found" is kLeaseNotFound).
ErrorCode error_code_for(RpcCode code, std::string_view message);

}  // namespace edd::etcd
