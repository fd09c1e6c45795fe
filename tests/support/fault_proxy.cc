#include "support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <mutex>
#include <thread>

#include "tessera/common/io.h"

namespace tessera::test {
namespace {

using Clock = std::chrono::steady_clock;

// Waits for fd to be readable (or writable); false if the proxy is stopping or time ran out.
bool WaitReady(int fd, short events, int stop_fd, int timeout_ms = 30000) {
  pollfd p[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
  int n = ::poll(p, 2, timeout_ms);
  return n > 0 && p[1].revents == 0 && p[0].revents != 0;
}

bool SendAll(int fd, std::string_view data, int stop_fd) {
  while (!data.empty()) {
    if (!WaitReady(fd, POLLOUT, stop_fd)) return false;
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Appends what arrives to buf; false on EOF, error or stop.
bool RecvSome(int fd, std::string& buf, int stop_fd) {
  if (!WaitReady(fd, POLLIN, stop_fd)) return false;
  char tmp[65536];
  ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
  if (n <= 0) return false;
  buf.append(tmp, static_cast<size_t>(n));
  return true;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Value of header `name` (lower case) in a request/response head, or "".
std::string HeaderValue(const std::string& head, const std::string& name) {
  std::string lower = Lower(head);
  size_t pos = lower.find("\r\n" + name + ":");
  if (pos == std::string::npos) return "";
  size_t start = pos + 3 + name.size();
  size_t end = head.find("\r\n", start);
  std::string v = head.substr(start, end - start);
  v.erase(0, v.find_first_not_of(' '));
  return v;
}

// Removes header lines `name` (lower case) from a head.
std::string DropHeader(const std::string& head, const std::string& name) {
  std::string out;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    if (Lower(line).rfind(name + ":", 0) != 0) out += line + "\r\n";
    pos = end + 2;
  }
  return out;
}

Result<UniqueFd> ConnectTcp(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return ErrnoError(errno, "socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError(errno, "connect " + host_port);
  }
  return fd;
}

struct Exchange {
  std::string head;  // response head without the final CRLF
  std::string body;
  bool delimited = true;  // by Content-Length or chunked encoding
};

}  // namespace

struct FaultProxy::Impl {
  std::string upstream;
  UniqueFd listener;
  UniqueFd stop;
  int port = 0;
  std::thread acceptor;
  mutable std::mutex mu;  // guards fault, counters, conns
  Fault fault;
  FaultCounters counters;
  std::list<std::thread> conns;

  void Accept();
  void Serve(UniqueFd client);
  // Reads one request (head and Content-Length body) from the client; false at EOF.
  bool ReadRequest(int fd, std::string& buf, std::string& request);
  bool Forward(const std::string& request, Exchange& ex);
  // Decides the fault for a request and counts it.
  Fault Pick(const std::string& request);
  bool Respond(int fd, const Fault& f, const Exchange& ex);
};

void FaultProxy::Impl::Accept() {
  while (WaitReady(listener.get(), POLLIN, stop.get(), -1)) {
    int c = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    std::lock_guard<std::mutex> lock(mu);
    conns.emplace_back([this, c] { Serve(UniqueFd(c)); });
  }
}

bool FaultProxy::Impl::ReadRequest(int fd, std::string& buf, std::string& request) {
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!RecvSome(fd, buf, stop.get())) return false;
  }
  std::string len = HeaderValue(buf.substr(0, end + 2), "content-length");
  size_t total = end + 4 + (len.empty() ? 0 : std::stoull(len));
  while (buf.size() < total) {
    if (!RecvSome(fd, buf, stop.get())) return false;
  }
  request = buf.substr(0, total);
  buf.erase(0, total);
  return true;
}

bool FaultProxy::Impl::Forward(const std::string& request, Exchange& ex) {
  auto up = ConnectTcp(upstream);
  if (!up) return false;
  size_t head_end = request.find("\r\n\r\n");
  std::string head = DropHeader(request.substr(0, head_end + 2), "connection");
  std::string sent = head + "Connection: close\r\n\r\n" + request.substr(head_end + 4);
  if (!SendAll(up->get(), sent, stop.get())) return false;
  std::string all;
  while (RecvSome(up->get(), all, stop.get())) {
  }
  size_t end = all.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  ex.head = DropHeader(all.substr(0, end + 2), "connection");
  ex.body = all.substr(end + 4);
  ex.delimited = !HeaderValue(ex.head, "content-length").empty() ||
                 !HeaderValue(ex.head, "transfer-encoding").empty();
  return true;
}

Fault FaultProxy::Impl::Pick(const std::string& request) {
  std::string line = request.substr(0, request.find("\r\n"));
  bool range = line.rfind("GET ", 0) == 0 && line.find("/blobs/sha256:") != std::string::npos &&
               !HeaderValue(request.substr(0, request.find("\r\n\r\n") + 2), "range").empty();
  std::lock_guard<std::mutex> lock(mu);
  ++counters.requests;
  if (range) ++counters.range_requests;
  Fault f = fault;
  if (f.mode == Fault::Mode::kPass || (f.ranges_only && !range) || f.count == 0) return Fault{};
  if (fault.count > 0) --fault.count;
  ++counters.faulted;
  switch (f.mode) {
    case Fault::Mode::kReset:
      ++counters.resets;
      break;
    case Fault::Mode::kDelay:
      ++counters.delays;
      break;
    case Fault::Mode::kTruncate:
      ++counters.truncations;
      break;
    case Fault::Mode::kFlipByte:
      ++counters.flips;
      break;
    case Fault::Mode::k503:
      ++counters.unavailable;
      break;
    case Fault::Mode::kStall:
      ++counters.stalls;
      break;
    case Fault::Mode::kPass:
      break;
  }
  return f;
}

bool FaultProxy::Impl::Respond(int fd, const Fault& f, const Exchange& ex) {
  using M = Fault::Mode;
  std::string head =
      ex.head + (ex.delimited ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
  std::string body = ex.body;
  size_t cut = std::min<uint64_t>(f.after_bytes, body.size());
  if (f.mode == M::kFlipByte && !body.empty()) body[f.after_bytes % body.size()] ^= 0x20;
  if (f.mode == M::kReset || f.mode == M::kTruncate) body.resize(cut);
  if (!SendAll(fd, head + body, stop.get())) return false;
  {
    std::lock_guard<std::mutex> lock(mu);
    counters.body_bytes += body.size();
  }
  if (f.mode == M::kReset) {
    linger l{1, 0};  // close with RST
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    return false;
  }
  return f.mode != M::kTruncate && ex.delimited;
}

void FaultProxy::Impl::Serve(UniqueFd client) {
  using M = Fault::Mode;
  std::string buf, request;
  while (ReadRequest(client.get(), buf, request)) {
    Fault f = Pick(request);
    if (f.mode == M::kStall) {
      while (WaitReady(client.get(), POLLIN, stop.get(), -1) &&
             RecvSome(client.get(), buf, stop.get())) {
      }
      return;
    }
    if (f.mode == M::kDelay) {
      pollfd p{stop.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(f.delay.count())) != 0) return;
    }
    Exchange ex;
    if (f.mode == M::k503) {
      ex.head =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n";
      ex.body = "unavailable\n";
    } else if (!Forward(request, ex)) {
      return;
    }
    if (!Respond(client.get(), f, ex)) return;
  }
}

FaultProxy::FaultProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FaultProxy::~FaultProxy() {
  uint64_t one = 1;
  (void)::write(impl_->stop.get(), &one, sizeof(one));
  if (impl_->acceptor.joinable()) impl_->acceptor.join();
  std::list<std::thread> conns;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    conns.swap(impl_->conns);
  }
  for (auto& t : conns) t.join();
}

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(const std::string& upstream) {
  auto impl = std::make_unique<Impl>();
  impl->upstream = upstream;
  impl->stop = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  impl->listener = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (impl->stop.get() < 0 || impl->listener.get() < 0) return ErrnoError(errno, "fault proxy");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if (::bind(impl->listener.get(), sa, len) != 0 || ::listen(impl->listener.get(), 64) != 0 ||
      ::getsockname(impl->listener.get(), sa, &len) != 0) {
    return ErrnoError(errno, "fault proxy: listen on 127.0.0.1");
  }
  impl->port = ntohs(addr.sin_port);
  Impl* raw = impl.get();
  impl->acceptor = std::thread([raw] { raw->Accept(); });
  return std::unique_ptr<FaultProxy>(new FaultProxy(std::move(impl)));
}

std::string FaultProxy::host() const { return "127.0.0.1:" + std::to_string(impl_->port); }

void FaultProxy::SetFault(const Fault& fault) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->fault = fault;
}

FaultCounters FaultProxy::counters() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->counters;
}

}  // namespace tessera::test
