#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <thread>

#include "supervisor_wire.h"

#include "tessera/nydusd_client/supervisor.h"

namespace tessera::nydusd::client {

class SupervisorLink::Impl {
 public:
  std::string path;
  Logger* logger = nullptr;
  std::mutex mu;                                 // guards mounts and sock
  std::map<std::string, HeldConnection> mounts;  // our duplicates, sent again on reconnect
  UniqueFd sock;                                 // invalid while the supervisor is away
  UniqueFd wake;                                 // eventfd: stop
  std::thread thread;

  void Run();
  // Sends HOLD for one mount (mu held); a failure is logged, the reconnect sends it again.
  void SendHold(const std::string& mountpoint, const HeldConnection& conn);
  // Waits until the supervisor closes the connection or stop is asked; false on stop.
  bool WaitConnected(int fd);
  // Sleeps up to `ms` unless stop is asked; false on stop.
  bool Pause(int ms);
};

void SupervisorLink::Impl::SendHold(const std::string& mountpoint, const HeldConnection& conn) {
  wire::Packet p;
  p.op = "HOLD";
  p.mountpoint = mountpoint;
  p.payload = conn.init_request;
  p.fd.Reset(::fcntl(conn.fuse_fd.get(), F_DUPFD_CLOEXEC, 0));
  Status st = wire::Send(sock.get(), p);
  if (!st)
    logger->Warn("supervisor: HOLD",
                 {{"mountpoint", mountpoint}, {"error", st.error().ToString()}});
}

bool SupervisorLink::Impl::WaitConnected(int fd) {
  for (;;) {
    struct pollfd fds[2] = {{wake.get(), POLLIN, 0}, {fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return true;
    }
    if (fds[0].revents != 0) return false;
    if (fds[1].revents != 0) return true;  // the supervisor never writes here: closed
  }
}

bool SupervisorLink::Impl::Pause(int ms) {
  struct pollfd fd = {wake.get(), POLLIN, 0};
  return ::poll(&fd, 1, ms) == 0;
}

void SupervisorLink::Impl::Run() {
  bool warned = false;
  for (;;) {
    auto conn = wire::Connect(path);
    if (conn) {
      int fd = conn->get();
      {
        std::lock_guard<std::mutex> lock(mu);
        sock = std::move(*conn);
        for (const auto& [mp, held] : mounts) SendHold(mp, held);
      }
      logger->Info("supervisor: connected", {{"path", path}});
      warned = false;
      if (!WaitConnected(fd)) return;
      std::lock_guard<std::mutex> lock(mu);
      sock.Reset();
      logger->Warn("supervisor: connection lost; reconnecting", {{"path", path}});
    } else if (!warned) {
      logger->Warn("supervisor: not reachable; retrying",
                   {{"path", path}, {"error", conn.error().ToString()}});
      warned = true;
    }
    if (!Pause(500)) return;
  }
}

SupervisorLink::SupervisorLink(std::string path, Logger* logger) : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(path);
  impl_->logger = logger;
  impl_->wake.Reset(::eventfd(0, EFD_CLOEXEC));
  Impl* raw = impl_.get();
  impl_->thread = std::thread([raw] { raw->Run(); });
}

SupervisorLink::~SupervisorLink() {
  uint64_t one = 1;
  (void)!::write(impl_->wake.get(), &one, sizeof one);
  if (impl_->thread.joinable()) impl_->thread.join();
}

void SupervisorLink::Hold(const std::string& mountpoint, int fuse_fd,
                          const std::string& init_request) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  HeldConnection conn{UniqueFd(::fcntl(fuse_fd, F_DUPFD_CLOEXEC, 0)), init_request};
  if (impl_->sock.valid()) impl_->SendHold(mountpoint, conn);
  impl_->mounts[mountpoint] = std::move(conn);
}

void SupervisorLink::Drop(const std::string& mountpoint) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->mounts.erase(mountpoint);
  if (!impl_->sock.valid()) return;
  wire::Packet p;
  p.op = "DROP";
  p.mountpoint = mountpoint;
  Status st = wire::Send(impl_->sock.get(), p);
  if (!st) impl_->logger->Warn("supervisor: DROP", {{"error", st.error().ToString()}});
}

Result<std::optional<HeldConnection>> FetchHeldConnection(const std::string& path,
                                                          const std::string& mountpoint) {
  TRY(UniqueFd sock, wire::Connect(path));
  wire::Packet ask;
  ask.op = "GET";
  ask.mountpoint = mountpoint;
  RETURN_IF_ERROR(wire::Send(sock.get(), ask));
  TRY(auto answer, wire::Receive(sock.get()));
  if (!answer) return MakeError(ErrorCode::kUnavailable, "supervisor closed the connection");
  if (answer->op == "NONE") return std::optional<HeldConnection>();
  if (answer->op != "FD" || !answer->fd.valid() || answer->payload.empty()) {
    return MakeError(ErrorCode::kCorrupt, "supervisor: bad answer to GET " + mountpoint);
  }
  return std::optional<HeldConnection>(
      HeldConnection{std::move(answer->fd), std::move(answer->payload)});
}

}  // namespace tessera::nydusd::client
