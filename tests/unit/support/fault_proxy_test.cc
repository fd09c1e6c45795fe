// FaultProxy against a one-response upstream on loopback: each fault mode does what it says
// to blob range requests, and counted faults stop after K requests.
#include "support/fault_proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "tessera/common/io.h"

namespace tessera::test {
namespace {

constexpr char kBody[] = "0123456789abcdefghijklmnopqrstuvwxyz";

// Answers every request on every connection with 206 and kBody, then closes.
class Upstream {
 public:
  Upstream() {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), len);
    ::listen(fd_.get(), 16);
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Upstream() {
    stop_ = true;
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void Loop() {
    while (!stop_) {
      int c = ::accept(fd_.get(), nullptr, nullptr);
      if (c < 0) return;
      UniqueFd conn(c);
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      std::string resp =
          "HTTP/1.1 206 Partial Content\r\nContent-Length: " + std::to_string(sizeof(kBody) - 1) +
          "\r\n\r\n" + kBody;
      ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
    }
  }
  UniqueFd fd_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct Reply {
  std::string text;  // everything received
  bool reset = false;
  bool timed_out = false;
};

// One request on a fresh connection; reads until the body is complete, EOF, reset or timeout.
Reply Fetch(const std::string& host, bool range, int timeout_ms = 3000) {
  Reply r;
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(host.substr(host.rfind(':') + 1))));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return r;
  std::string req = "GET /v2/r/blobs/sha256:00 HTTP/1.1\r\nHost: x\r\n" +
                    std::string(range ? "Range: bytes=0-35\r\n" : "") + "\r\n";
  ::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL);
  char buf[4096];
  for (;;) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) == 0) {
      r.timed_out = true;
      return r;
    }
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0) r.reset = errno == ECONNRESET;
    if (n <= 0) return r;
    r.text.append(buf, static_cast<size_t>(n));
    size_t head = r.text.find("\r\n\r\n");
    if (head != std::string::npos && r.text.size() - head - 4 >= sizeof(kBody) - 1) return r;
  }
}

std::string Body(const Reply& r) {
  size_t head = r.text.find("\r\n\r\n");
  return head == std::string::npos ? "" : r.text.substr(head + 4);
}

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = FaultProxy::Start(upstream_.host());
    ASSERT_TRUE(p) << p.error().ToString();
    proxy_ = std::move(*p);
  }
  Upstream upstream_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(FaultProxyTest, PassesThrough) {
  Reply r = Fetch(proxy_->host(), true);
  EXPECT_EQ(Body(r), kBody);
  EXPECT_EQ(proxy_->counters().range_requests, 1u);
  EXPECT_EQ(proxy_->counters().faulted, 0u);
}

TEST_F(FaultProxyTest, FlipsOneByteOfTheNextRangeRequestOnly) {
  proxy_->SetFault({.mode = Fault::Mode::kFlipByte, .after_bytes = 3, .count = 1});
  std::string flipped = kBody;
  flipped[3] ^= 0x20;
  EXPECT_EQ(Body(Fetch(proxy_->host(), false)), kBody);  // not a range request
  EXPECT_EQ(Body(Fetch(proxy_->host(), true)), flipped);
  EXPECT_EQ(Body(Fetch(proxy_->host(), true)), kBody);
  EXPECT_EQ(proxy_->counters().flips, 1u);
}

TEST_F(FaultProxyTest, TruncatesResetsAndAnswers503) {
  proxy_->SetFault({.mode = Fault::Mode::kTruncate, .after_bytes = 10});
  Reply t = Fetch(proxy_->host(), true);
  EXPECT_EQ(Body(t), std::string(kBody).substr(0, 10));
  EXPECT_FALSE(t.reset);
  proxy_->SetFault({.mode = Fault::Mode::kReset, .after_bytes = 5});
  Reply r = Fetch(proxy_->host(), true);
  EXPECT_TRUE(r.reset);
  EXPECT_LE(Body(r).size(), 5u);
  proxy_->SetFault({.mode = Fault::Mode::k503});
  EXPECT_NE(Fetch(proxy_->host(), true, 300).text.find("503"), std::string::npos);  // kept alive
  auto c = proxy_->counters();
  EXPECT_EQ(c.truncations, 1u);
  EXPECT_EQ(c.resets, 1u);
  EXPECT_EQ(c.unavailable, 1u);
}

TEST_F(FaultProxyTest, DelaysAndStalls) {
  proxy_->SetFault({.mode = Fault::Mode::kDelay, .delay = std::chrono::milliseconds(200)});
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(Body(Fetch(proxy_->host(), true)), kBody);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
  proxy_->SetFault({.mode = Fault::Mode::kStall});
  Reply s = Fetch(proxy_->host(), true, 300);
  EXPECT_TRUE(s.timed_out);
  EXPECT_TRUE(s.text.empty());
  EXPECT_EQ(proxy_->counters().stalls, 1u);
}

}  // namespace
}  // namespace tessera::test
