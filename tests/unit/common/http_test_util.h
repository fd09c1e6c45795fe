// Helpers for the HTTP server/client tests: a raw unix-socket connection that sends
// hand-written bytes, and a server in a temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "tessera/common/http.h"
#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::testing {

// A blocking connection with a receive timeout, for bytes no well-behaved client would send.
class RawConn {
 public:
  explicit RawConn(const std::string& path,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    fd_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_.get(); }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Everything until the peer closes (or the receive timeout).
  std::string ReadToEof() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

  // One response: head plus Content-Length body ("" on timeout or close).
  std::string ReadResponse() {
    char buf[4096];
    for (;;) {
      size_t head_end = pending_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t body = 0;
        size_t cl = pending_.find("Content-Length: ");
        if (cl != std::string::npos && cl < head_end) body = std::stoul(pending_.substr(cl + 16));
        if (pending_.size() >= head_end + 4 + body) {
          std::string out = pending_.substr(0, head_end + 4 + body);
          pending_.erase(0, out.size());
          return out;
        }
      }
      ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
      if (n <= 0) return "";
      pending_.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  UniqueFd fd_;
  bool connected_ = false;
  std::string pending_;
};

// "HTTP/1.1 404 Not Found\r\n..." -> 404 (0 if not a status line).
inline int StatusOf(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 7, "HTTP/1.") != 0) return 0;
  return std::stoi(response.substr(9, 3));
}

// A server on <tempdir>/api.sock.
class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("http_test");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    path_ = dir_->path() + "/api.sock";
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    dir_.reset();
  }
  void StartServer(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(options);
    Routes(*server_);
    auto started = server_->Start(path_);
    ASSERT_TRUE(started) << started.error().ToString();
  }
  // Override to register routes before the server starts.
  virtual void Routes(HttpServer& server) {
    server.Route("GET", "/hello",
                 [](const HttpRequest&) { return HttpResponse::Text(200, "hello\n"); });
  }

  std::unique_ptr<TempDir> dir_;
  std::string path_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace tessera::testing
