// HttpServer + HttpClient over a real unix socket: routing, keep-alive, limits, timeouts and
// concurrency.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "http_test_util.h"

#include "tessera/common/http.h"

namespace tessera {
namespace {

using testing::RawConn;
using testing::StatusOf;
using namespace std::chrono_literals;

class HttpServerTest : public testing::ServerFixture {
 protected:
  void Routes(HttpServer& server) override {
    server.Route("GET", "/hello",
                 [](const HttpRequest&) { return HttpResponse::Text(200, "hello\n"); });
    server.Route("GET", "/echo", [](const HttpRequest& req) {
      std::string out = req.method + " " + req.path;
      for (const auto& [k, v] : req.query) out += " " + k + "=" + v;
      return HttpResponse::Text(200, out);
    });
    server.Route("POST", "/echo", [](const HttpRequest& req) {
      HttpResponse r = HttpResponse::Json(201, req.body);
      r.headers["X-Type"] = std::string(req.Header("content-type").value_or(""));
      return r;
    });
    server.Route("GET", "/slow", [](const HttpRequest&) {
      std::this_thread::sleep_for(300ms);
      return HttpResponse::Text(200, "slow");
    });
    server.Route("GET", "/throw",
                 [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    server.Route("DELETE", "/nothing", [](const HttpRequest&) { return HttpResponse::Empty(204); });
  }

  HttpClient Client(std::chrono::milliseconds timeout = 5s) {
    return HttpClient(path_, HttpClientOptions{.timeout = timeout, .service_name = "testd"});
  }
};

TEST_F(HttpServerTest, RoutesByMethodAndPath) {
  StartServer();
  HttpClient client = Client();
  auto r = client.Get("/echo?b=%2Fx&a=1");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /echo a=1 b=/x");
  EXPECT_EQ(r->content_type, "text/plain; charset=utf-8");

  auto post = client.Send("POST", "/echo", "{\"k\":1}", "application/json");
  ASSERT_TRUE(post) << post.error().ToString();
  EXPECT_EQ(post->status, 201);
  EXPECT_EQ(post->body, "{\"k\":1}");
  EXPECT_EQ(post->headers["x-type"], "application/json");

  auto del = client.Send("DELETE", "/nothing");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  EXPECT_EQ(del->body, "");
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405) {
  StartServer();
  HttpClient client = Client();
  auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->content_type, "application/json");
  EXPECT_NE(missing->body.find("\"code\":\"not_found\""), std::string::npos) << missing->body;

  auto wrong = client.Send("PUT", "/echo", "x");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->headers["allow"], "GET, POST");
  EXPECT_NE(wrong->body.find("method_not_allowed"), std::string::npos);
}

TEST_F(HttpServerTest, HandlerExceptionIs500) {
  StartServer();
  HttpClient client = Client();
  auto r = client.Get("/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("boom"), std::string::npos);
  EXPECT_EQ(client.Get("/hello")->status, 200);  // the connection and server survive
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  RawConn conn(path_);
  ASSERT_TRUE(conn.connected());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(conn.Send("GET /echo?i=" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string resp = conn.ReadResponse();
    EXPECT_EQ(StatusOf(resp), 200) << resp;
    EXPECT_NE(resp.find("Connection: keep-alive"), std::string::npos);
    EXPECT_NE(resp.find("i=" + std::to_string(i)), std::string::npos);
  }
  // Pipelined: three requests in one write, answered in order.
  ASSERT_TRUE(
      conn.Send("GET /echo?p=1 HTTP/1.1\r\n\r\nGET /echo?p=2 HTTP/1.1\r\n\r\n"
                "GET /echo?p=3 HTTP/1.1\r\nConnection: close\r\n\r\n"));
  for (int i = 1; i <= 3; ++i) {
    std::string resp = conn.ReadResponse();
    EXPECT_NE(resp.find("p=" + std::to_string(i)), std::string::npos) << resp;
  }
  EXPECT_EQ(conn.ReadToEof(), "");  // closed after "Connection: close"
}

TEST_F(HttpServerTest, ClientReusesItsConnection) {
  StartServer();
  HttpClient client = Client();
  for (int i = 0; i < 20; ++i) {
    auto r = client.Get("/hello");
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->body, "hello\n");
  }
}

TEST_F(HttpServerTest, BodyOverLimitIs413AndChunkedIs411) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  HttpClient client = Client();
  auto ok = client.Send("POST", "/echo", std::string(1024, 'a'));
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->status, 201);
  auto big = client.Send("POST", "/echo", std::string(1025, 'a'));
  ASSERT_TRUE(big) << big.error().ToString();
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("too_large"), std::string::npos);

  RawConn conn(path_);
  ASSERT_TRUE(conn.Send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"));
  std::string resp = conn.ReadToEof();
  EXPECT_EQ(StatusOf(resp), 411) << resp;
}

TEST_F(HttpServerTest, DefaultLimitsRejectHugeBodyAndHead) {
  StartServer();
  HttpClient client = Client();
  auto big = client.Send("POST", "/echo", std::string((1 << 20) + 1, 'a'));
  ASSERT_TRUE(big) << big.error().ToString();
  EXPECT_EQ(big->status, 413);
  RawConn conn(path_);
  ASSERT_TRUE(conn.Send("GET /hello HTTP/1.1\r\nX: " + std::string(17 * 1024, 'h')));
  EXPECT_EQ(StatusOf(conn.ReadToEof()), 431);
}

TEST_F(HttpServerTest, GarbageGets400AndServerKeepsServing) {
  StartServer();
  RawConn conn(path_);
  ASSERT_TRUE(conn.Send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15)));
  EXPECT_EQ(StatusOf(conn.ReadToEof()), 400);
  EXPECT_EQ(Client().Get("/hello")->status, 200);
}

TEST_F(HttpServerTest, ExpectContinueGets100ThenTheResponse) {
  StartServer();
  RawConn conn(path_);
  ASSERT_TRUE(
      conn.Send("POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  std::string interim = conn.ReadResponse();
  EXPECT_EQ(StatusOf(interim), 100) << interim;
  ASSERT_TRUE(conn.Send("data"));
  std::string resp = conn.ReadResponse();
  EXPECT_EQ(StatusOf(resp), 201) << resp;
  EXPECT_TRUE(resp.ends_with("data"));
}

TEST_F(HttpServerTest, SlowClientTimesOutWithoutBlockingOthers) {
  HttpServerOptions options;
  options.worker_threads = 1;  // a slow client must not hold the only worker
  options.request_timeout = 1000ms;
  StartServer(options);
  RawConn slow(path_);
  ASSERT_TRUE(slow.Send("GET /hello HTTP/1.1\r\nHost:"));  // ... and never finishes
  RawConn silent(path_);                                   // connects, sends nothing
  auto start = std::chrono::steady_clock::now();
  HttpClient client = Client();
  for (int i = 0; i < 5; ++i) {
    auto r = client.Get("/hello");
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);  // before the slow one expires
  EXPECT_EQ(StatusOf(slow.ReadToEof()), 408);
  EXPECT_EQ(silent.ReadToEof(), "");  // closed quietly: there was no request to answer
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  HttpServerOptions options;
  options.idle_timeout = 200ms;
  StartServer(options);
  RawConn conn(path_);
  ASSERT_TRUE(conn.Send("GET /hello HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(StatusOf(conn.ReadResponse()), 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(conn.ReadToEof(), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // The client notices the closed kept-alive connection and reconnects.
  HttpClient client = Client();
  ASSERT_TRUE(client.Get("/hello"));
  std::this_thread::sleep_for(400ms);
  auto again = client.Get("/hello");
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->status, 200);
}

TEST_F(HttpServerTest, ConcurrentClients) {
  HttpServerOptions options;
  options.worker_threads = 4;
  StartServer(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client = Client();
      for (int i = 0; i < 25; ++i) {
        std::string body = std::to_string(t) + ":" + std::to_string(i);
        auto r = client.Send("POST", "/echo", body);
        if (r && r->status == 201 && r->body == body) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}

TEST_F(HttpServerTest, HandlersRunInParallel) {
  HttpServerOptions options;
  options.worker_threads = 4;
  StartServer(options);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] { EXPECT_EQ(Client().Get("/slow")->status, 200); });
  }
  for (auto& t : threads) t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);  // not 4 × 300 ms
}

TEST_F(HttpServerTest, ConnectionLimitAnswers503) {
  HttpServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  RawConn a(path_), b(path_);
  ASSERT_TRUE(a.Send("GET /hello HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(b.Send("GET /hello HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(StatusOf(a.ReadResponse()), 200);
  EXPECT_EQ(StatusOf(b.ReadResponse()), 200);
  RawConn c(path_);
  EXPECT_EQ(StatusOf(c.ReadToEof()), 503);
}

TEST_F(HttpServerTest, ClientTimesOutOnSlowHandler) {
  StartServer();
  HttpClient client = Client(100ms);
  auto r = client.Get("/slow");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_NE(r.error().context.find("GET /slow"), std::string::npos) << r.error().ToString();
  EXPECT_NE(r.error().context.find(path_), std::string::npos);
}

}  // namespace
}  // namespace tessera
