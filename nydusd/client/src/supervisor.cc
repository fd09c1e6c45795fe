#include "tessera/nydusd_client/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "supervisor_wire.h"

namespace tessera::nydusd::client {

class Supervisor::Impl {
 public:
  std::string path;
  Logger* logger = nullptr;
  UniqueFd listen_fd;
  UniqueFd wake;  // eventfd: stop serving
  mutable std::mutex mu;
  std::map<std::string, HeldConnection> held;
  std::thread thread;

  void Serve();
  void Handle(int client, wire::Packet packet);
};

namespace {

Result<UniqueFd> ListenOn(const std::string& path) {
  TRY(wire::Endpoint e, wire::MakeEndpoint(path));
  UniqueFd sock = std::move(e.sock);
  struct sockaddr_un addr = e.addr;
  ::unlink(path.c_str());  // a stale socket of an earlier run
  if (::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoError(errno, "supervisor: bind " + path);
  }
  if (::chmod(path.c_str(), 0600) != 0) return ErrnoError(errno, "supervisor: chmod " + path);
  if (::listen(sock.get(), 64) != 0) return ErrnoError(errno, "supervisor: listen " + path);
  return sock;
}

}  // namespace

void Supervisor::Impl::Handle(int client, wire::Packet packet) {
  std::lock_guard<std::mutex> lock(mu);
  if (packet.op == "HOLD") {
    if (!packet.fd.valid()) {
      logger->Warn("supervisor: HOLD without a descriptor", {{"mountpoint", packet.mountpoint}});
      return;
    }
    held[packet.mountpoint] = HeldConnection{std::move(packet.fd), std::move(packet.payload)};
    logger->Info("supervisor: holding FUSE connection", {{"mountpoint", packet.mountpoint}});
  } else if (packet.op == "DROP") {
    if (held.erase(packet.mountpoint) > 0) {
      logger->Info("supervisor: dropped FUSE connection", {{"mountpoint", packet.mountpoint}});
    }
  } else if (packet.op == "GET") {
    wire::Packet answer;
    answer.mountpoint = packet.mountpoint;
    auto it = held.find(packet.mountpoint);
    if (it == held.end()) {
      answer.op = "NONE";
    } else {
      answer.op = "FD";
      answer.payload = it->second.init_request;
      answer.fd.Reset(::fcntl(it->second.fuse_fd.get(), F_DUPFD_CLOEXEC, 0));
    }
    Status st = wire::Send(client, answer);
    if (!st) logger->Warn("supervisor: answer GET", {{"error", st.error().ToString()}});
  } else {
    logger->Warn("supervisor: unknown request", {{"op", packet.op}});
  }
}

void Supervisor::Impl::Serve() {
  std::vector<UniqueFd> clients;
  for (;;) {
    std::vector<struct pollfd> fds = {{wake.get(), POLLIN, 0}, {listen_fd.get(), POLLIN, 0}};
    for (const UniqueFd& c : clients) fds.push_back({c.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      logger->Error("supervisor: poll", {{"error", std::strerror(errno)}});
      return;
    }
    if (fds[0].revents != 0) return;
    std::vector<bool> closed(clients.size(), false);
    for (size_t i = 0; i < clients.size(); ++i) {
      if (fds[i + 2].revents == 0) continue;
      auto packet = wire::Receive(clients[i].get());
      if (!packet || !packet->has_value()) {
        closed[i] = true;
        continue;
      }
      Handle(clients[i].get(), std::move(**packet));
    }
    for (size_t i = clients.size(); i-- > 0;) {
      if (closed[i]) clients.erase(clients.begin() + static_cast<ptrdiff_t>(i));
    }
    if (fds[1].revents & POLLIN) {
      int c = ::accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) clients.emplace_back(c);
    }
  }
}

Result<std::unique_ptr<Supervisor>> Supervisor::Listen(const std::string& path, Logger* logger) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->logger = logger;
  TRY(impl->listen_fd, ListenOn(path));
  impl->wake.Reset(::eventfd(0, EFD_CLOEXEC));
  if (!impl->wake.valid()) return ErrnoError(errno, "supervisor: eventfd");
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Serve(); });
  return std::unique_ptr<Supervisor>(new Supervisor(std::move(impl)));
}

Supervisor::Supervisor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Supervisor::~Supervisor() {
  uint64_t one = 1;
  (void)!::write(impl_->wake.get(), &one, sizeof one);
  if (impl_->thread.joinable()) impl_->thread.join();
  ::unlink(impl_->path.c_str());
}

const std::string& Supervisor::path() const { return impl_->path; }

bool Supervisor::Holds(const std::string& mountpoint) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->held.count(mountpoint) > 0;
}

std::vector<std::string> Supervisor::Held() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<std::string> out;
  for (const auto& [mp, conn] : impl_->held) out.push_back(mp);
  return out;
}

void Supervisor::Drop(const std::string& mountpoint) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->held.erase(mountpoint) > 0) {
    impl_->logger->Info("supervisor: dropped FUSE connection", {{"mountpoint", mountpoint}});
  }
}

}  // namespace tessera::nydusd::client
