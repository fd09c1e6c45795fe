// Result<T>: the error type used at every module boundary.
//
// An Error carries a code (what kind of failure), the errno that caused it (0 if none) and a
// context string that names the file, offset or field involved. Result<T> holds either a T or
// an Error and mirrors std::expected's members (has_value, value, error, operator*, operator->),
// so switching to std::expected later is an alias change. Errors are values: no exceptions
// cross a component boundary.
//
// Thread-safety: plain value types; no shared state.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tessera {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // caller passed something unusable
  kNotFound,         // a name, file or key does not exist
  kAlreadyExists,
  kCorrupt,      // on-disk or on-wire data failed validation
  kUnsupported,  // valid but not handled (feature bit, version, type)
  kIo,           // a system call failed (see sys_errno)
  kOutOfRange,   // an offset or length lies outside its container
  kTooLarge,     // a size limit was exceeded
  kPermission,
  kTimeout,
  kUnavailable,  // a backend or service cannot be reached
  kCancelled,
  kInternal,            // a bug: an invariant did not hold
  kFailedPrecondition,  // valid, but not in the object's current state (e.g. it has children)
};

// Name of a code, for messages ("corrupt", "io", ...).
std::string_view ErrorCodeName(ErrorCode code);

// The errno a FUSE or virtio-fs reply should carry for this code (one table for all transports).
int ErrorCodeToErrno(ErrorCode code, int sys_errno);

struct [[nodiscard]] Error {
  ErrorCode code = ErrorCode::kInternal;
  int sys_errno = 0;
  std::string context;

  // "corrupt: superblock: bad magic 0x12345678 (image.erofs)"
  std::string ToString() const;

  // Returns a copy whose context is "outer: <old context>".
  Error Wrap(std::string_view outer) const;
};

Error MakeError(ErrorCode code, std::string context);
// An Error of code kIo from errno (captured by the caller) and a context such as the path.
Error ErrnoError(int sys_errno, std::string context);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }

  // The value, or `fallback` if this holds an error.
  T value_or(T fallback) const& { return has_value() ? value() : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const { assert(ok_); }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status Ok() { return {}; }

}  // namespace tessera

#define TESSERA_CONCAT_INNER_(a, b) a##b
#define TESSERA_CONCAT_(a, b) TESSERA_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr): returns the error of a Status/Result expression.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    auto&& tessera_status_ = (expr);             \
    if (!tessera_status_.has_value()) {          \
      return std::move(tessera_status_).error(); \
    }                                            \
  } while (0)

// RETURN_IF_ERROR_CTX(expr, ctx): the same, prefixing the error's context with ctx.
#define RETURN_IF_ERROR_CTX(expr, ctx)          \
  do {                                          \
    auto&& tessera_status_ = (expr);            \
    if (!tessera_status_.has_value()) {         \
      return tessera_status_.error().Wrap(ctx); \
    }                                           \
  } while (0)

// TRY(auto x, expr): declares x from a Result's value or returns its error.
#define TRY_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);               \
  if (!tmp.has_value()) {          \
    return std::move(tmp).error(); \
  }                                \
  decl = std::move(tmp).value()
#define TRY(decl, expr) TRY_IMPL_(TESSERA_CONCAT_(tessera_try_, __LINE__), decl, expr)
