// Supervisor: keeps tesserad's FUSE connections alive across a crash of the daemon.
//
// A FUSE mount lives as long as the kernel connection behind it, and the connection lives as
// long as one /dev/fuse descriptor of it is open. tesserad hands a duplicate of each mount's
// descriptor, with the FUSE_INIT request the kernel opened the connection with, to a supervisor
// (the snapshotter) over a unix socket. If tesserad dies, the mount stays up (its readers wait)
// and a new tesserad started with the same --supervisor asks for the descriptor, replays the
// INIT to its FUSE library, asks the kernel to resend the requests the dead daemon had taken
// (FUSE_NOTIFY_RESEND), and serves on. docs/api.md §Supervisor gives the wire protocol:
// SOCK_SEQPACKET, one message per packet, "HOLD", "DROP" and "GET" (answered "FD" or "NONE").
//
// Thread-safety: every class here is safe to use from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/logging.h"
#include "tessera/common/result.h"

namespace tessera::nydusd::client {

// A FUSE connection as the supervisor holds it.
struct HeldConnection {
  UniqueFd fuse_fd;          // a /dev/fuse descriptor of the connection
  std::string init_request;  // the kernel's FUSE_INIT request, header included, as read
};

// The supervisor side: listens on a socket and holds connections keyed by mountpoint.
class Supervisor {
 public:
  // Creates the socket (mode 0600; a stale socket file is replaced) and starts serving.
  static Result<std::unique_ptr<Supervisor>> Listen(const std::string& path, Logger* logger);
  ~Supervisor();  // stops serving, closes every held descriptor, removes the socket

  const std::string& path() const;
  bool Holds(const std::string& mountpoint) const;
  std::vector<std::string> Held() const;
  // Closes the held descriptor of a mountpoint (no-op if none).
  void Drop(const std::string& mountpoint);

  class Impl;

 private:
  explicit Supervisor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The daemon side: a kept connection to a supervisor that re-registers every mount after the
// supervisor restarts (it reconnects every `retry` while it is away).
class SupervisorLink {
 public:
  SupervisorLink(std::string path, Logger* logger);
  ~SupervisorLink();

  // Registers a mount's connection (a duplicate of fuse_fd is kept and sent).
  void Hold(const std::string& mountpoint, int fuse_fd, const std::string& init_request);
  // Unregisters it (the supervisor closes its descriptor).
  void Drop(const std::string& mountpoint);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Asks the supervisor at `path` for the connection it holds for `mountpoint`: nullopt if it
// holds none; kUnavailable if no supervisor listens there.
Result<std::optional<HeldConnection>> FetchHeldConnection(const std::string& path,
                                                          const std::string& mountpoint);

}  // namespace tessera::nydusd::client
