// Result<T>: an expected value or an Error, shaped like std::expected so it can become that later.
// Expected failures (a member down, a timeout, a bad rule) travel as values, never as exceptions.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace edd {

enum class ErrorCode {
  kInvalidArgument,     // bad user input: exit code 2
  kUnavailable,         // endpoint unreachable, connection refused
  kDeadlineExceeded,    // a call timed out
  kPermissionDenied,    // etcd refused the user (e.g. maintenance needs root)
  kUnauthenticated,     // bad credentials or token
  kNoSpace,             // etcd's NOSPACE: mvcc: database space exceeded
  kFailedPrecondition,  // the cluster is not in a state where we may act
  kNotFound,
  // etcd's expected answers that callers act on (mapped once, where the gRPC status is read, so
  // no decision depends on etcd's wording):
  kCompacted,         // the revision asked for has been compacted away
  kFutureRevision,    // the revision asked for is not there yet
  kLeaseNotFound,     // the lease expired or was revoked
  kAuthTokenInvalid,  // our auth token expired or is unknown: authenticate again
  kInternal,
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error make_error(ErrorCode code, std::string message) { return {code, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace edd
