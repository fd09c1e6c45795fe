// The API socket's lifecycle (mode, stale and live sockets, removal on Stop) and the client's
// errors against missing, dead or misbehaving servers.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "http_test_util.h"

#include "tessera/common/http.h"
#include "tessera/common/io.h"

namespace tessera {
namespace {

using namespace std::chrono_literals;

class HttpSocketTest : public testing::ServerFixture {
 protected:
  HttpClient Client(std::chrono::milliseconds timeout = 5s) {
    return HttpClient(path_, HttpClientOptions{.timeout = timeout, .service_name = "testd"});
  }
};

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Binds a socket at path and closes it without unlinking: a stale socket file.
void MakeStaleSocket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
}

// A one-shot server that answers the first request on path with canned bytes, then closes.
class CannedServer {
 public:
  CannedServer(const std::string& path, std::string reply) {
    fd_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_.get(), 4), 0);
    thread_ = std::thread([this, reply = std::move(reply)] {
      UniqueFd conn(::accept(fd_.get(), nullptr, nullptr));
      char buf[4096];
      (void)!::recv(conn.get(), buf, sizeof(buf), 0);
      (void)!::send(conn.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
    });
  }
  ~CannedServer() { thread_.join(); }

 private:
  UniqueFd fd_;
  std::thread thread_;
};

TEST_F(HttpSocketTest, SocketIsMode0600EvenWithPermissiveUmask) {
  mode_t old = ::umask(0);
  StartServer();
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(HttpSocketTest, StaleSocketFileIsReplaced) {
  MakeStaleSocket(path_);
  ASSERT_TRUE(Exists(path_));
  StartServer();
  auto r = Client().Get("/hello");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpSocketTest, LiveSocketIsRefused) {
  StartServer();
  HttpServer second;
  auto started = second.Start(path_);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(started.error().context.find(path_), std::string::npos);
  EXPECT_EQ(Client().Get("/hello")->status, 200);  // the first server is untouched
}

TEST_F(HttpSocketTest, NonSocketFileIsNeverRemoved) {
  ASSERT_TRUE(WriteFile(path_, std::vector<uint8_t>{'x'}));
  HttpServer server;
  auto started = server.Start(path_);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(started.error().context.find("not a socket"), std::string::npos);
  EXPECT_EQ(ReadFile(path_)->size(), 1u);
}

TEST_F(HttpSocketTest, TooLongPathIsInvalidArgument) {
  HttpServer server;
  auto started = server.Start(dir_->path() + "/" + std::string(200, 's'));
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(HttpSocketTest, StopRemovesSocketAndCanRestart) {
  StartServer();
  ASSERT_TRUE(Exists(path_));
  server_->Stop();
  EXPECT_FALSE(server_->running());
  EXPECT_FALSE(Exists(path_));
  server_->Stop();  // idempotent
  ASSERT_TRUE(server_->Start(path_));
  EXPECT_EQ(Client().Get("/hello")->status, 200);
}

TEST_F(HttpSocketTest, StopLeavesAnotherServersSocketAlone) {
  StartServer();
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  HttpServer other;
  ASSERT_TRUE(other.Start(path_));
  server_->Stop();
  EXPECT_TRUE(Exists(path_));
  other.Stop();
  EXPECT_FALSE(Exists(path_));
}

TEST_F(HttpSocketTest, StopClosesOpenConnectionsPromptly) {
  StartServer();
  testing::RawConn idle(path_);
  testing::RawConn partial(path_);
  ASSERT_TRUE(partial.Send("GET /hello HTTP/1.1\r\n"));
  std::this_thread::sleep_for(50ms);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(idle.ReadToEof(), "");
  EXPECT_EQ(partial.ReadToEof(), "");
}

TEST_F(HttpSocketTest, ClientReportsMissingAndDeadServers) {
  auto missing = Client().Get("/hello");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(missing.error().context, "testd is not running at " + path_);

  MakeStaleSocket(path_);
  auto refused = Client().Get("/hello");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(refused.error().sys_errno, ECONNREFUSED);
}

TEST_F(HttpSocketTest, ClientNoticesServerStoppedBetweenRequests) {
  StartServer();
  HttpClient client = Client();
  ASSERT_TRUE(client.Get("/hello"));
  server_->Stop();
  auto r = client.Get("/hello");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST_F(HttpSocketTest, ClientRejectsMalformedResponses) {
  {
    CannedServer server(path_, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
    auto r = Client().Get("/x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << r.error().ToString();
  }
  ::unlink(path_.c_str());
  {
    CannedServer server(path_, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    auto r = Client().Get("/x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << r.error().ToString();
  }
  ::unlink(path_.c_str());
  {
    CannedServer server(path_, "HTTP/1.1 200 OK\r\nX: " + std::string(70 * 1024, 'x'));
    auto r = Client().Get("/x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kTooLarge) << r.error().ToString();
  }
  ::unlink(path_.c_str());
  {
    // No Content-Length: the body runs to the end of the connection.
    CannedServer server(path_, "HTTP/1.0 200 OK\r\n\r\nuntil eof");
    auto r = Client().Get("/x");
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->body, "until eof");
  }
}

}  // namespace
}  // namespace tessera
