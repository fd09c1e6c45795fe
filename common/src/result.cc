#include "tessera/common/result.h"

#include <cerrno>
#include <cstring>

namespace tessera {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kAlreadyExists:
      return "already exists";
    case ErrorCode::kCorrupt:
      return "corrupt";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kIo:
      return "i/o error";
    case ErrorCode::kOutOfRange:
      return "out of range";
    case ErrorCode::kTooLarge:
      return "too large";
    case ErrorCode::kPermission:
      return "permission denied";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kInternal:
      return "internal error";
    case ErrorCode::kFailedPrecondition:
      return "failed precondition";
  }
  return "unknown error";
}

int ErrorCodeToErrno(ErrorCode code, int sys_errno) {
  switch (code) {
    case ErrorCode::kOk:
      return 0;
    case ErrorCode::kInvalidArgument:
      return EINVAL;
    case ErrorCode::kNotFound:
      return ENOENT;
    case ErrorCode::kAlreadyExists:
      return EEXIST;
    case ErrorCode::kUnsupported:
      return EOPNOTSUPP;
    case ErrorCode::kOutOfRange:
      return ERANGE;
    case ErrorCode::kTooLarge:
      return EFBIG;
    case ErrorCode::kPermission:
      return EACCES;
    case ErrorCode::kTimeout:
      return ETIMEDOUT;
    case ErrorCode::kCancelled:
      return ECANCELED;
    case ErrorCode::kFailedPrecondition:
      return EBUSY;
    case ErrorCode::kIo:
      return sys_errno != 0 ? sys_errno : EIO;
    // Bad data and unreachable backends must surface as EIO to a reader: never as success.
    case ErrorCode::kCorrupt:
    case ErrorCode::kUnavailable:
    case ErrorCode::kInternal:
      return EIO;
  }
  return EIO;
}

std::string Error::ToString() const {
  std::string out(ErrorCodeName(code));
  if (!context.empty()) {
    out += ": ";
    out += context;
  }
  if (sys_errno != 0) {
    out += " (";
    out += std::strerror(sys_errno);
    out += ")";
  }
  return out;
}

Error Error::Wrap(std::string_view outer) const {
  Error e = *this;
  e.context = std::string(outer) + (context.empty() ? "" : ": " + context);
  return e;
}

Error MakeError(ErrorCode code, std::string context) { return Error{code, 0, std::move(context)}; }

Error ErrnoError(int sys_errno, std::string context) {
  ErrorCode code = ErrorCode::kIo;
  if (sys_errno == ENOENT) code = ErrorCode::kNotFound;
  if (sys_errno == EEXIST) code = ErrorCode::kAlreadyExists;
  if (sys_errno == EACCES || sys_errno == EPERM) code = ErrorCode::kPermission;
  return Error{code, sys_errno, std::move(context)};
}

}  // namespace tessera
