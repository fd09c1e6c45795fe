// A scripted HTTP/1.1 server on 127.0.0.1 for client tests: every request is recorded and
// answered by a handler that returns raw response bytes (and may cut the connection or stall),
// so retries, redirects, auth challenges and broken bodies can be staged exactly.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tessera::oci::testing {

struct FakeRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct FakeResponse {
  std::string raw;     // bytes to send
  bool close = false;  // close the connection after sending them
  int stall_ms = 0;    // wait this long before sending
  int hold_ms = 0;     // then wait this long (a stalled body) before going on
};

// "HTTP/1.1 <status>" with headers and a body (Content-Length set unless given).
inline std::string Http(int status, const std::string& body = "",
                        const std::vector<std::string>& headers = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  bool has_length = false;
  for (const auto& h : headers) {
    out += h + "\r\n";
    if (h.starts_with("Content-Length:")) has_length = true;
  }
  if (!has_length) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

class FakeHttpServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&, int index)>;

  explicit FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(listen_fd_, 16);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeHttpServer() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : conns_) shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    for (int fd : conns_) close(fd);
    close(listen_fd_);
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  size_t connections() {
    std::lock_guard lock(mu_);
    return conns_.size();
  }
  std::vector<FakeRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard lock(mu_);
      conns_.push_back(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  bool ReadRequest(int fd, std::string& buf, FakeRequest* req) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(fd, buf)) return false;
    }
    std::string head = buf.substr(0, end);
    buf.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    std::string line = head.substr(0, line_end);
    req->method = line.substr(0, line.find(' '));
    req->target = line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string h = head.substr(pos, next - pos);
      size_t colon = h.find(':');
      if (colon != std::string::npos) {
        std::string name = h.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t v = h.find_first_not_of(' ', colon + 1);
        req->headers[name] = v == std::string::npos ? "" : h.substr(v);
      }
      pos = next + 2;
    }
    size_t length =
        std::stoul(req->headers.count("content-length") ? req->headers["content-length"] : "0");
    while (buf.size() < length) {
      if (!Fill(fd, buf)) return false;
    }
    req->body = buf.substr(0, length);
    buf.erase(0, length);
    return true;
  }

  static bool Fill(int fd, std::string& buf) {
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }

  void Serve(int fd) {
    std::string buf;
    while (!stop_) {
      FakeRequest req;
      if (!ReadRequest(fd, buf, &req)) break;
      int index;
      {
        std::lock_guard lock(mu_);
        index = static_cast<int>(requests_.size());
        requests_.push_back(req);
      }
      FakeResponse resp = handler_(req, index);
      for (int waited = 0; waited < resp.stall_ms && !stop_; waited += 10) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      size_t off = 0;
      while (off < resp.raw.size()) {
        ssize_t n = send(fd, resp.raw.data() + off, resp.raw.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      for (int waited = 0; waited < resp.hold_ms && !stop_; waited += 10) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (resp.close) break;
    }
    shutdown(fd, SHUT_RDWR);
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> workers_;
  std::vector<FakeRequest> requests_;
};

}  // namespace tessera::oci::testing
