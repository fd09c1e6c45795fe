#include "supervisor_wire.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace tessera::nydusd::client::wire {

Status Send(int sock, const Packet& packet) {
  if (packet.mountpoint.find('\n') != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "supervisor: mountpoint contains a newline");
  }
  std::string body = packet.op + "\n" + packet.mountpoint + "\n" + packet.payload;
  if (body.size() > kMaxPacket) {
    return MakeError(ErrorCode::kInvalidArgument, "supervisor: packet too large");
  }
  struct iovec iov {
    body.data(), body.size()
  };
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (packet.fd.valid()) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int fd = packet.fd.get();
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(errno, "supervisor: send " + packet.op);
  return Ok();
}

Result<std::optional<Packet>> Receive(int sock) {
  std::vector<char> buf(kMaxPacket);
  struct iovec iov {
    buf.data(), buf.size()
  };
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(errno, "supervisor: receive");
  if (n == 0) return std::optional<Packet>();
  Packet p;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (!p.fd.valid()) {
        p.fd.Reset(fd);
      } else {
        ::close(fd);  // at most one is meaningful
      }
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    return MakeError(ErrorCode::kCorrupt, "supervisor: truncated packet");
  }
  std::string text(buf.data(), static_cast<size_t>(n));
  size_t a = text.find('\n');
  size_t b = a == std::string::npos ? a : text.find('\n', a + 1);
  if (b == std::string::npos) return MakeError(ErrorCode::kCorrupt, "supervisor: bad packet");
  p.op = text.substr(0, a);
  p.mountpoint = text.substr(a + 1, b - a - 1);
  p.payload = text.substr(b + 1);
  return std::optional<Packet>(std::move(p));
}

Result<Endpoint> MakeEndpoint(const std::string& path) {
  Endpoint e{UniqueFd(), {}};
  e.addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof e.addr.sun_path) {
    return MakeError(ErrorCode::kInvalidArgument, "supervisor socket path too long: " + path);
  }
  std::memcpy(e.addr.sun_path, path.c_str(), path.size() + 1);
  e.sock.Reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!e.sock.valid()) return ErrnoError(errno, "supervisor: socket");
  return e;
}

Result<UniqueFd> Connect(const std::string& path) {
  TRY(Endpoint e, MakeEndpoint(path));
  UniqueFd sock = std::move(e.sock);
  struct sockaddr_un addr = e.addr;
  if (::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      return MakeError(ErrorCode::kUnavailable, "no supervisor listens on " + path);
    }
    return ErrnoError(err, "supervisor: connect " + path);
  }
  return sock;
}

}  // namespace tessera::nydusd::client::wire
