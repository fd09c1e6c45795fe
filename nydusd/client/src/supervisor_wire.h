// The supervisor's packets (docs/api.md §Supervisor): "OP\nMOUNTPOINT\nPAYLOAD" on a
// SOCK_SEQPACKET unix socket, with at most one descriptor attached (SCM_RIGHTS).
//
// Thread-safety: reentrant; callers serialize use of one socket.
#pragma once

#include <sys/un.h>

#include <optional>
#include <string>

#include "tessera/common/io.h"
#include "tessera/common/result.h"

namespace tessera::nydusd::client::wire {

inline constexpr size_t kMaxPacket = 64 * 1024;

struct Packet {
  std::string op;  // HOLD, DROP, GET, FD, NONE
  std::string mountpoint;
  std::string payload;
  UniqueFd fd;  // attached descriptor, if any
};

Status Send(int sock, const Packet& packet);
// nullopt when the peer closed the connection.
Result<std::optional<Packet>> Receive(int sock);
Result<UniqueFd> Connect(const std::string& path);
// A SOCK_SEQPACKET socket and the address of `path` (errors: path too long, socket failed).
struct Endpoint {
  UniqueFd sock;
  struct sockaddr_un addr;
};
Result<Endpoint> MakeEndpoint(const std::string& path);

}  // namespace tessera::nydusd::client::wire
