// Status and Result<T>: expected failures as values.
//
// A Status is either OK or a (code, message) pair. Result<T> holds a T or a non-OK Status.
// Library code returns these for anything a hospital deployment can cause (bad file, wrong key,
// timeout, dropout); exceptions are reserved for programming errors, and exceptions from
// third-party libraries (c10::Error, kj::Exception, YAML::Exception) are converted to Status at
// the library edge that calls them.
//
// Thread-safety: values; copying and moving are safe, sharing one instance across threads for
// mutation is not. Ownership: Result<T> owns its T.
#pragma once

#include <cassert>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

namespace fedsmear {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // caller passed something malformed (config typo, bad flag)
  kNotFound,            // file, class or site does not exist
  kCorrupt,             // stored or received bytes fail validation (checksum, schema, sizes)
  kIoError,             // the OS refused a read or write
  kTimeout,             // a deadline passed
  kUnavailable,         // a peer is unreachable or dropped out
  kPermissionDenied,    // wrong or unknown key, policy refused a task
  kFailedPrecondition,  // the operation does not fit the current state
  kResourceExhausted,   // a size cap was exceeded
  kAborted,             // the operation was cancelled
  kInternal,            // a bug or an unexpected library failure
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "CODE: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "context: message" (OK stays OK).
  Status WithContext(const std::string& context) const;

  bool operator==(const Status& other) const {
    return code_ == other.code_ && message_ == other.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

// Shorthand constructors, e.g. `return InvalidArgument("epochs must be > 0");`.
Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status Corrupt(std::string message);
Status IoError(std::string message);
Status Timeout(std::string message);
Status Unavailable(std::string message);
Status PermissionDenied(std::string message);
Status FailedPrecondition(std::string message);
Status ResourceExhausted(std::string message);
Status Aborted(std::string message);
Status Internal(std::string message);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "Result<T> built from an OK status has no value");
    if (status_.ok()) status_ = Internal("Result built from OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  Status status_;  // OK when value_ is set
  std::optional<T> value_;
};

}  // namespace fedsmear

#define FEDSMEAR_CONCAT_INNER(a, b) a##b
#define FEDSMEAR_CONCAT(a, b) FEDSMEAR_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                     \
  do {                                            \
    ::fedsmear::Status _st = (expr);              \
    if (!_st.ok()) return _st;                    \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(FEDSMEAR_CONCAT(_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
