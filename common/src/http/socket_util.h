// Unix-socket plumbing shared by the HTTP server and client: addresses, deadline-bounded
// waits and writes. Every wait can be cut short by a cancel fd (an eventfd the server makes
// readable on Stop()).
//
// Thread-safety: stateless functions.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <chrono>
#include <string>
#include <string_view>

#include "tessera/common/io.h"
#include "tessera/common/result.h"

namespace tessera::internal {

using Clock = std::chrono::steady_clock;

// sockaddr_un for path; a path that does not fit sun_path is kInvalidArgument naming it.
Result<sockaddr_un> UnixAddress(const std::string& path);

// A non-blocking, close-on-exec AF_UNIX stream socket.
Result<UniqueFd> NewUnixSocket();

enum class WaitResult { kReady, kTimeout, kCancelled };

// Waits until fd has `events` (POLLIN/POLLOUT; hang-ups and errors count as ready), the
// deadline passes, or cancel_fd (if ≥ 0) becomes readable.
Result<WaitResult> WaitFd(int fd, short events, Clock::time_point deadline, int cancel_fd);

// Writes all of data to a non-blocking socket (MSG_NOSIGNAL: a closed peer is an error, never
// SIGPIPE) before the deadline. kTimeout / kCancelled / kIo errors start with `what`.
Status SendAll(int fd, std::string_view data, Clock::time_point deadline, int cancel_fd,
               const std::string& what);

// Creates a listening socket at path with the given mode (set on the socket before bind, so it
// is never more open than that, then chmod-ed exactly). A stale socket file is replaced; a
// live socket or a non-socket file at path is kAlreadyExists. Returns the socket and the
// inode it created (so Stop() removes the file only if it is still ours).
struct Listener {
  UniqueFd fd;
  dev_t dev = 0;
  ino_t ino = 0;
};
Result<Listener> ListenUnix(const std::string& path, mode_t mode);

// Milliseconds left until deadline for poll(2): 0 if past, capped to an int.
int PollTimeoutMs(Clock::time_point deadline);

}  // namespace tessera::internal
