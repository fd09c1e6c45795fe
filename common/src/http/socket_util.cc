#include "http/socket_util.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tessera::internal {

Result<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return MakeError(ErrorCode::kInvalidArgument, "unix socket path must be 1.." +
                                                      std::to_string(sizeof(addr.sun_path) - 1) +
                                                      " bytes: '" + path + "'");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

Result<UniqueFd> NewUnixSocket() {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ErrnoError(errno, "socket(AF_UNIX)");
  return UniqueFd(fd);
}

int PollTimeoutMs(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

Result<WaitResult> WaitFd(int fd, short events, Clock::time_point deadline, int cancel_fd) {
  pollfd fds[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
  nfds_t n = cancel_fd >= 0 ? 2 : 1;
  for (;;) {
    int rc = ::poll(fds, n, PollTimeoutMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return ErrnoError(errno, "poll");
    if (n == 2 && fds[1].revents != 0) return WaitResult::kCancelled;
    if (fds[0].revents != 0) return WaitResult::kReady;
    if (Clock::now() >= deadline) return WaitResult::kTimeout;
  }
}

Status SendAll(int fd, std::string_view data, Clock::time_point deadline, int cancel_fd,
               const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return ErrnoError(errno, what);
    TRY(WaitResult w, WaitFd(fd, POLLOUT, deadline, cancel_fd));
    if (w == WaitResult::kTimeout)
      return MakeError(ErrorCode::kTimeout, what + ": write timed out");
    if (w == WaitResult::kCancelled) return MakeError(ErrorCode::kCancelled, what);
  }
  return Ok();
}

}  // namespace tessera::internal

namespace tessera::internal {
namespace {

// Removes a socket file nobody accepts on; refuses a live socket or anything else.
Status ClearStaleSocket(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Ok();
    return ErrnoError(errno, "stat " + path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return MakeError(ErrorCode::kAlreadyExists, path + " exists and is not a socket");
  }
  TRY(UniqueFd probe, NewUnixSocket());
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 ||
      errno == EAGAIN) {
    return MakeError(ErrorCode::kAlreadyExists, "another process is serving " + path);
  }
  if (errno != ECONNREFUSED) return ErrnoError(errno, "probe existing socket " + path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(errno, "remove stale socket " + path);
  }
  return Ok();
}

}  // namespace

Result<Listener> ListenUnix(const std::string& path, mode_t mode) {
  TRY(sockaddr_un addr, UnixAddress(path));
  RETURN_IF_ERROR(ClearStaleSocket(path, addr));
  Listener out;
  TRY(out.fd, NewUnixSocket());
  // Linux creates the socket file with the socket inode's mode masked by the umask, so the
  // file is never more open than `mode`, even for the moment before the chmod below.
  if (::fchmod(out.fd.get(), mode) != 0) return ErrnoError(errno, "fchmod socket for " + path);
  if (::bind(out.fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == EADDRINUSE) {
      return MakeError(ErrorCode::kAlreadyExists, "another process is serving " + path);
    }
    return ErrnoError(errno, "bind " + path);
  }
  struct stat st {};
  if (::chmod(path.c_str(), mode) != 0 || ::lstat(path.c_str(), &st) != 0) {
    Error e = ErrnoError(errno, "chmod " + path);
    ::unlink(path.c_str());
    return e;
  }
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  if (::listen(out.fd.get(), 128) != 0) {
    Error e = ErrnoError(errno, "listen " + path);
    ::unlink(path.c_str());
    return e;
  }
  return out;
}

}  // namespace tessera::internal
