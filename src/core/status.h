// Status and Result<T>: the one error type of every fallible call.
// A Status is a code plus a human message that names the thing and the fix.
// Values are cheap to move; an OK status carries no message.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace di {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input from a user, a file or a flag
  kNotFound,         // a table, object, key or file that is not there
  kAlreadyExists,
  kUnavailable,      // a service that does not answer (retryable)
  kThrottled,        // the service asks us to slow down (retryable)
  kUnauthenticated,  // missing or wrong credentials
  kCorruption,       // data that fails a checksum or a parse
  kAborted,          // stopped on request (signal, shutdown)
  kInternal,         // a bug or an unexpected answer
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: table 'x' ..." — for logs and one-line CLI errors.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status Throttled(std::string m) {
  return {StatusCode::kThrottled, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status Corruption(std::string m) {
  return {StatusCode::kCorruption, std::move(m)};
}
inline Status Aborted(std::string m) {
  return {StatusCode::kAborted, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// Result<T>: a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace di

#define DI_CONCAT_INNER(a, b) a##b
#define DI_CONCAT(a, b) DI_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::di::Status di_status_ = (expr);        \
    if (!di_status_.ok()) return di_status_; \
  } while (0)

// ASSIGN_OR_RETURN(auto x, MakeX()); — binds the value or returns the status.
#define ASSIGN_OR_RETURN(lhs, expr)                                                           \
  auto DI_CONCAT(di_result_, __LINE__) = (expr);                                              \
  if (!DI_CONCAT(di_result_, __LINE__).ok()) return DI_CONCAT(di_result_, __LINE__).status(); \
  lhs = std::move(DI_CONCAT(di_result_, __LINE__)).value()
