// HttpClient: one kept-alive connection to a unix socket, every step bounded by a deadline.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <thread>

#include "http/socket_util.h"
#include "http/wire.h"

#include "tessera/common/http.h"

namespace tessera {

using internal::Clock;

namespace {

constexpr size_t kMaxResponseHead = 64 * 1024;

bool Idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE";
}

}  // namespace

// The connection and the bytes received past the last response.
class HttpClient::Conn {
 public:
  explicit Conn(UniqueFd fd) : fd_(std::move(fd)) {}

  int fd() const { return fd_.get(); }
  std::string& buffer() { return buffer_; }

  // A kept-alive connection the server has closed (or that has stray bytes) is unusable.
  bool Stale() const {
    pollfd p{fd_.get(), POLLIN, 0};
    return !buffer_.empty() || ::poll(&p, 1, 0) != 0;
  }

  // Appends what arrives before the deadline; false at end of stream.
  Result<bool> ReadMore(Clock::time_point deadline, const std::string& what) {
    char chunk[16 * 1024];
    for (;;) {
      ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return ErrnoError(errno, what);
      TRY(internal::WaitResult w, internal::WaitFd(fd_.get(), POLLIN, deadline, -1));
      if (w != internal::WaitResult::kReady) {
        return MakeError(ErrorCode::kTimeout, what + ": no response in time");
      }
    }
  }

 private:
  UniqueFd fd_;
  std::string buffer_;
};

HttpClient::HttpClient(std::string socket_path, HttpClientOptions options)
    : socket_path_(std::move(socket_path)), options_(std::move(options)) {}

HttpClient::~HttpClient() = default;

void HttpClient::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  conn_.reset();
}

namespace {

Error ConnectError(int err, const std::string& service, const std::string& path) {
  switch (err) {
    case ECONNREFUSED:
    case ENOENT:
    case ENOTDIR:
      return Error{ErrorCode::kUnavailable, err, service + " is not running at " + path};
    case EACCES:
    case EPERM:
      return Error{ErrorCode::kPermission, err, "connect to " + service + " at " + path};
    default:
      return ErrnoError(err, "connect to " + service + " at " + path);
  }
}

Result<UniqueFd> Connect(const std::string& path, const std::string& service,
                         Clock::time_point deadline) {
  TRY(sockaddr_un addr, internal::UnixAddress(path));
  for (;;) {
    TRY(UniqueFd fd, internal::NewUnixSocket());
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
      return fd;
    }
    // EAGAIN: the listener's backlog is full; an AF_UNIX connect does not complete later.
    if (errno != EAGAIN && errno != EINTR) return ConnectError(errno, service, path);
    if (Clock::now() >= deadline) {
      return MakeError(ErrorCode::kTimeout, service + " at " + path + " accepts no connections");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string RequestBytes(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view content_type) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  out.append("Host: localhost\r\nUser-Agent: tessera\r\nAccept: */*\r\n");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    if (!content_type.empty()) out.append("Content-Type: ").append(content_type).append("\r\n");
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

bool HasNoBody(int status, std::string_view method) {
  return method == "HEAD" || status == 204 || status == 304 || status < 200;
}

}  // namespace

Result<HttpResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                      std::string_view body, std::string_view content_type) {
  std::lock_guard<std::mutex> lock(mu_);
  bool retryable = false;
  auto response = SendOnce(method, target, body, content_type, &retryable);
  if (!response && retryable && Idempotent(method)) {
    // The kept-alive connection died under us before any reply byte: try a fresh one.
    conn_.reset();
    response = SendOnce(method, target, body, content_type, &retryable);
  }
  if (!response) conn_.reset();
  return response;
}

Result<HttpResponse> HttpClient::SendOnce(std::string_view method, std::string_view target,
                                          std::string_view body, std::string_view content_type,
                                          bool* retryable) {
  const auto deadline = Clock::now() + options_.timeout;
  const std::string what = options_.service_name + " at " + socket_path_ + ": " +
                           std::string(method) + " " + std::string(target);
  if (conn_ && conn_->Stale()) conn_.reset();
  bool reused = conn_ != nullptr;
  if (!conn_) {
    TRY(UniqueFd fd, Connect(socket_path_, options_.service_name, deadline));
    conn_ = std::make_unique<Conn>(std::move(fd));
  }
  Status sent = internal::SendAll(conn_->fd(), RequestBytes(method, target, body, content_type),
                                  deadline, -1, what);
  if (!sent && sent.error().code != ErrorCode::kIo) return std::move(sent).error();
  // A server may answer early and close (413 for a body over its limit): after a failed
  // write its answer can still be read.
  auto response = ReadResponse(method, deadline, what, reused, retryable);
  if (!sent && !response) return std::move(sent).error();
  return response;
}

Result<HttpResponse> HttpClient::ReadResponse(std::string_view method, Clock::time_point deadline,
                                              const std::string& what, bool reused,
                                              bool* retryable) {
  std::optional<size_t> head_end;
  for (;;) {
    head_end = internal::FindHeadEnd(conn_->buffer());
    if (head_end) {
      TRY(auto head,
          internal::ParseResponseHead(std::string_view(conn_->buffer()).substr(0, *head_end)));
      if (head.response.status >= 200) break;
      conn_->buffer().erase(0, *head_end);  // 1xx interim response: wait for the real one
      continue;
    }
    if (conn_->buffer().size() > kMaxResponseHead) {
      return MakeError(ErrorCode::kTooLarge, what + ": response head over 64 KiB");
    }
    TRY(bool more, conn_->ReadMore(deadline, what));
    if (!more) {
      *retryable = reused && conn_->buffer().empty();
      return Error{ErrorCode::kIo, ECONNRESET,
                   what + ": connection closed before a complete response"};
    }
  }
  return ReadBody(method, *head_end, deadline, what);
}

Result<HttpResponse> HttpClient::ReadBody(std::string_view method, size_t head_size,
                                          Clock::time_point deadline, const std::string& what) {
  std::string& buffer = conn_->buffer();
  TRY(auto head, internal::ParseResponseHead(std::string_view(buffer).substr(0, head_size)));
  buffer.erase(0, head_size);
  HttpResponse response = std::move(head.response);
  bool to_eof = false;
  uint64_t length = 0;
  if (!HasNoBody(response.status, method)) {
    to_eof = !head.content_length;
    length = head.content_length.value_or(0);
  }
  if (length > options_.max_response_bytes) {
    return MakeError(ErrorCode::kTooLarge, what + ": response body of " + std::to_string(length) +
                                               " bytes is over the limit");
  }
  while (to_eof || buffer.size() < length) {
    if (buffer.size() > options_.max_response_bytes) {
      return MakeError(ErrorCode::kTooLarge, what + ": response body over the limit");
    }
    TRY(bool more, conn_->ReadMore(deadline, what));
    if (!more && to_eof) break;
    if (!more) return MakeError(ErrorCode::kCorrupt, what + ": response body truncated");
  }
  size_t take = to_eof ? buffer.size() : static_cast<size_t>(length);
  response.body = buffer.substr(0, take);
  buffer.erase(0, take);
  if (!head.keep_alive || to_eof) conn_.reset();
  return response;
}

}  // namespace tessera
