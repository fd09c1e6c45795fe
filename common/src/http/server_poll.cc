// HttpServer's poll thread: accepts connections and receives requests without ever blocking,
// so a slow or silent client holds only its connection slot, never a worker.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "http/server_impl.h"

namespace tessera {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

void DrainEventFd(int fd) {
  uint64_t value;
  (void)!::read(fd, &value, sizeof(value));
}

// Best effort: tells a client over the connection limit why it is closed.
void RefuseBusy(int fd) {
  std::string wire = internal::SerializeResponse(
      HttpResponse::JsonError(503, "unavailable", "too many connections"), false);
  (void)!::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

// The docs/api.md error code for a framing error's status.
std::string_view ApiCodeForStatus(int status) {
  switch (status) {
    case 411:
      return "length_required";
    case 413:
    case 431:
      return "too_large";
    case 417:
    case 505:
      return "unsupported";
    default:
      return "invalid_argument";
  }
}

}  // namespace

void HttpServer::Impl::PollLoop() {
  std::vector<std::unique_ptr<ServerConnection>> conns;
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({stop_fd_.get(), POLLIN, 0});
    fds.push_back({wake_fd_.get(), POLLIN, 0});
    fds.push_back({listener_.fd.get(), POLLIN, 0});
    auto next_deadline = internal::Clock::now() + std::chrono::hours(1);
    for (const auto& c : conns) {
      fds.push_back({c->fd.get(), POLLIN, 0});
      next_deadline = std::min(next_deadline, c->deadline);
    }
    int rc = ::poll(fds.data(), fds.size(), internal::PollTimeoutMs(next_deadline));
    if (rc < 0 && errno != EINTR) {
      Log(LogLevel::kError, "api server poll failed", {{"errno", std::to_string(errno)}});
      return;
    }
    if (fds[0].revents != 0) return;  // Stop(): `conns` closes every connection it holds
    // Readable connections first (indexes match `conns` as it was when polled).
    std::vector<std::unique_ptr<ServerConnection>> kept;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (rc > 0 && fds[i + 3].revents != 0) {
        if (auto c = ReadAndFrame(std::move(conns[i]))) kept.push_back(std::move(c));
      } else {
        kept.push_back(std::move(conns[i]));
      }
    }
    conns = std::move(kept);
    if (rc > 0 && fds[1].revents != 0) TakeReturned(&conns);
    if (rc > 0 && fds[2].revents != 0) AcceptAll(&conns);
    ExpireDeadlines(&conns);
  }
}

void HttpServer::Impl::AcceptAll(std::vector<std::unique_ptr<ServerConnection>>* conns) {
  for (;;) {
    int fd = ::accept4(listener_.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: the listener stays readable, so back off instead of spinning.
        Log(LogLevel::kWarn, "api accept failed: out of file descriptors", {});
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        Log(LogLevel::kWarn, "api accept failed", {{"errno", std::to_string(errno)}});
      }
      return;
    }
    UniqueFd socket(fd);
    if (open_count_.load() >= options_.max_connections) {
      RefuseBusy(socket.get());
      Log(LogLevel::kWarn, "api connection refused: too many connections", {});
      continue;
    }
    auto conn = std::make_unique<ServerConnection>(std::move(socket), options_, &open_count_);
    // A new connection must start (and finish) its request within the request timeout.
    conn->deadline = internal::Clock::now() + options_.request_timeout;
    conns->push_back(std::move(conn));
  }
}

std::unique_ptr<ServerConnection> HttpServer::Impl::ReadAndFrame(
    std::unique_ptr<ServerConnection> conn) {
  // Enough for one complete request of maximal size; more waits until that one is answered.
  const size_t cap = options_.max_header_bytes + options_.max_body_bytes + 1;
  std::string& buffer = conn->reader.buffer();
  bool eof = false;
  char chunk[kReadChunk];
  while (buffer.size() < cap) {
    ssize_t n = ::recv(conn->fd.get(), chunk, std::min(sizeof(chunk), cap - buffer.size()), 0);
    if (n > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    eof = true;  // orderly shutdown (n == 0) or a reset: no more bytes will come
    break;
  }
  return Frame(std::move(conn), eof);
}

std::unique_ptr<ServerConnection> HttpServer::Impl::Frame(std::unique_ptr<ServerConnection> conn,
                                                          bool eof) {
  if (!conn->receiving && !conn->reader.Idle()) {
    conn->receiving = true;
    conn->deadline = internal::Clock::now() + options_.request_timeout;
  }
  ServerJob job;
  switch (conn->reader.Advance()) {
    case internal::RequestReader::State::kNeedMore:
      if (eof) return nullptr;  // the peer left mid-request: nobody to answer
      if (conn->reader.TakeContinue()) {
        (void)!::send(conn->fd.get(), kContinue.data(), kContinue.size(),
                      MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      return conn;
    case internal::RequestReader::State::kComplete:
      job.request = conn->reader.TakeRequest();
      // After a half-close the reply is still delivered, then the connection closes.
      job.keep_alive = conn->reader.keep_alive() && !eof;
      break;
    case internal::RequestReader::State::kError:
      job.error = HttpResponse::JsonError(conn->reader.error_status(),
                                          ApiCodeForStatus(conn->reader.error_status()),
                                          conn->reader.error_message());
      Log(LogLevel::kDebug, "api request rejected", {{"why", conn->reader.error_message()}});
      break;
  }
  job.conn = std::move(conn);
  Enqueue(std::move(job));
  return nullptr;
}

void HttpServer::Impl::TakeReturned(std::vector<std::unique_ptr<ServerConnection>>* conns) {
  DrainEventFd(wake_fd_.get());
  std::vector<std::unique_ptr<ServerConnection>> returned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    returned.swap(returned_);
  }
  for (auto& conn : returned) {
    // Pipelined bytes may already hold the next request: frame it now, as no POLLIN will
    // announce bytes that were read earlier.
    if (!conn->reader.Idle()) {
      conn = Frame(std::move(conn), false);
      if (!conn) continue;
    }
    conns->push_back(std::move(conn));
  }
}

void HttpServer::Impl::ExpireDeadlines(std::vector<std::unique_ptr<ServerConnection>>* conns) {
  auto now = internal::Clock::now();
  std::vector<std::unique_ptr<ServerConnection>> kept;
  for (auto& conn : *conns) {
    if (conn->deadline > now) {
      kept.push_back(std::move(conn));
    } else if (conn->reader.Idle()) {
      // Idle keep-alive or silent new connection: close quietly.
    } else {
      Log(LogLevel::kDebug, "api request timed out", {});
      ServerJob job;
      job.error = HttpResponse::JsonError(408, "timeout", "request not received in time");
      job.conn = std::move(conn);
      Enqueue(std::move(job));
    }
  }
  *conns = std::move(kept);
}

}  // namespace tessera
