#include <catch2/catch.hpp>

#include "etcd/rpc_status.h"

using edd::ErrorCode;
using edd::etcd::error_code_for;
using edd::etcd::RpcCode;

// The messages are etcd's own (api/v3rpc/rpctypes/error.go), as its members send them.

TEST_CASE("etcd's compacted and future revisions become their own codes") {
  CHECK(error_code_for(RpcCode::kOutOfRange,
                       "etcdserver: mvcc: required revision has been compacted") ==
        ErrorCode::kCompacted);
  CHECK(error_code_for(RpcCode::kOutOfRange,
                       "etcdserver: mvcc: required revision is a future revision") ==
        ErrorCode::kFutureRevision);
  // OutOfRange says nothing more by itself: a too large lease TTL is neither.
  CHECK(error_code_for(RpcCode::kOutOfRange, "etcdserver: too large lease TTL") ==
        ErrorCode::kInternal);
}

TEST_CASE("a lease etcd no longer knows is kLeaseNotFound, another NotFound stays kNotFound") {
  CHECK(error_code_for(RpcCode::kNotFound, "etcdserver: requested lease not found") ==
        ErrorCode::kLeaseNotFound);
  CHECK(error_code_for(RpcCode::kNotFound, "etcdserver: member not found") == ErrorCode::kNotFound);
}

TEST_CASE("etcd's authentication answers: bad credentials, and a token worth renewing") {
  CHECK(error_code_for(RpcCode::kInvalidArgument,
                       "etcdserver: authentication failed, invalid user ID or password") ==
        ErrorCode::kUnauthenticated);
  CHECK(error_code_for(RpcCode::kInvalidArgument, "etcdserver: user name is empty") ==
        ErrorCode::kUnauthenticated);
  CHECK(error_code_for(RpcCode::kUnauthenticated, "etcdserver: invalid auth token") ==
        ErrorCode::kAuthTokenInvalid);
  CHECK(error_code_for(RpcCode::kUnauthenticated, "jwt token expired") ==
        ErrorCode::kAuthTokenInvalid);
  CHECK(error_code_for(RpcCode::kUnauthenticated, "etcdserver: something else") ==
        ErrorCode::kUnauthenticated);
  CHECK(error_code_for(RpcCode::kInvalidArgument, "etcdserver: key is not provided") ==
        ErrorCode::kInvalidArgument);
}

TEST_CASE("the other gRPC codes map by code alone") {
  CHECK(error_code_for(RpcCode::kUnavailable, "etcdserver: leader changed") ==
        ErrorCode::kUnavailable);
  CHECK(error_code_for(RpcCode::kDeadlineExceeded, "context deadline exceeded") ==
        ErrorCode::kDeadlineExceeded);
  CHECK(error_code_for(RpcCode::kPermissionDenied, "etcdserver: permission denied") ==
        ErrorCode::kPermissionDenied);
  CHECK(error_code_for(RpcCode::kResourceExhausted, "etcdserver: mvcc: database space exceeded") ==
        ErrorCode::kNoSpace);
  CHECK(error_code_for(RpcCode::kFailedPrecondition, "etcdserver: not leader") ==
        ErrorCode::kFailedPrecondition);
  CHECK(error_code_for(RpcCode::kUnknown, "anything") == ErrorCode::kInternal);
  CHECK(error_code_for(RpcCode::kDataLoss, "etcdserver: corrupt cluster") == ErrorCode::kInternal);
}
