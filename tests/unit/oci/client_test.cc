// RegistryClient against a scripted server: retries, auth challenges, token fetches, redirects,
// range answers, broken bodies, resumption, cancellation and timeouts.
#include <gtest/gtest.h>

#include "fake_http_server.h"
#include "registry/auth.h"

#include "tessera/oci/registry.h"

namespace tessera::oci {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;
using testing::Http;

const std::string kBlob = [] {
  std::string s;
  for (int i = 0; i < 100000; ++i) s += static_cast<char>('a' + i % 26);
  return s;
}();
std::string BlobDigest() {
  return DigestOf({reinterpret_cast<const uint8_t*>(kBlob.data()), kBlob.size()});
}

std::unique_ptr<RegistryClient> Client(const FakeHttpServer& server, Credentials creds = {},
                                       int retries = 3) {
  RegistryOptions o;
  o.plain_http = true;
  o.max_retries = retries;
  o.retry_backoff = std::chrono::milliseconds(1);
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.request_timeout = std::chrono::milliseconds(5000);
  o.stall_timeout = std::chrono::milliseconds(1000);
  return std::move(*RegistryClient::Create(server.host(), o, std::move(creds)));
}

std::string Basic(const std::string& user, const std::string& pass) {
  std::string pair = user + ":" + pass;
  return "Basic " +
         internal::Base64Encode({reinterpret_cast<const uint8_t*>(pair.data()), pair.size()});
}

TEST(ClientTest, RetriesServerErrorsButNotClientErrors) {
  FakeHttpServer server([](const FakeRequest& r, int i) -> FakeResponse {
    if (r.target == "/v2/") return {Http(i < 2 ? 503 : 200, "{}")};
    if (r.target.find("/manifests/") != std::string::npos) return {Http(i < 4 ? 429 : 404)};
    return {Http(400, R"({"errors":[{"code":"NAME_INVALID","message":"bad"}]})")};
  });
  auto client = Client(server);
  ASSERT_TRUE(client->Ping().has_value());
  EXPECT_EQ(client->Stats().retries, 2u);
  auto m = client->GetManifest("r", "t");  // 429, 429, then 404: not found, no more retries
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(server.requests().size(), 5u);
  auto b = client->HeadBlob("r", BlobDigest());
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(server.requests().size(), 6u);  // a 400 is final
}

TEST(ClientTest, GivesUpAfterMaxRetries) {
  FakeHttpServer server([](const FakeRequest&, int) -> FakeResponse { return {Http(502)}; });
  auto client = Client(server, {}, 2);
  auto st = client->Ping();
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ClientTest, BasicChallengeThenCredentialsAndWrongPassword) {
  FakeHttpServer server([](const FakeRequest& r, int) -> FakeResponse {
    if (r.Header("authorization") == Basic("me", "pw")) return {Http(200, "{}")};
    return {Http(401, "", {R"(WWW-Authenticate: Basic realm="fake")"})};
  });
  auto good = Client(server, Credentials{"me", "pw", ""});
  ASSERT_TRUE(good->Ping().has_value());
  ASSERT_TRUE(good->Ping().has_value());  // the scheme is remembered: no second 401
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.connections(), 1u);  // keep-alive: one connection for all three
  auto bad = Client(server, Credentials{"me", "hunter2-secret", ""});
  auto st = bad->Ping();
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kPermission);
  EXPECT_EQ(st.error().ToString().find("hunter2"), std::string::npos) << st.error().ToString();
  EXPECT_NE(st.error().ToString().find("'me'"), std::string::npos) << st.error().ToString();
  auto none = Client(server);
  EXPECT_EQ(none->Ping().error().code, ErrorCode::kPermission);
}

TEST(ClientTest, BearerTokensAreFetchedWithScopeAndCached) {
  std::string realm;
  FakeHttpServer server([&realm](const FakeRequest& r, int) -> FakeResponse {
    if (r.target.starts_with("/token")) {
      if (r.Header("authorization") != Basic("u", "p")) return {Http(401)};
      return {Http(200,
                   R"({"token":"T-)" + std::to_string(r.target.size()) + R"(","expires_in":300})")};
    }
    if (r.Header("authorization").starts_with("Bearer T-"))
      return {Http(200, "{}", {"Content-Type: x"})};
    return {Http(401, "",
                 {"WWW-Authenticate: Bearer realm=\"" + realm +
                  "\",service=\"fake reg\",scope=\"repository:lib/x:pull\""})};
  });
  realm = "http://" + server.host() + "/token";
  auto client = Client(server, Credentials{"u", "p", ""});
  ASSERT_TRUE(client->GetManifest("lib/x", "v1").has_value());
  ASSERT_TRUE(client->GetManifest("lib/x", "v2").has_value());
  EXPECT_EQ(client->Stats().token_fetches, 1u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);  // 401, token, retry, cached
  EXPECT_EQ(reqs[1].target, "/token?service=fake%20reg&scope=repository%3Alib%2Fx%3Apull");
  // Another repository needs another scope, hence another token (fetched before the request).
  ASSERT_TRUE(client->GetManifest("lib/y", "v1").has_value());
  EXPECT_EQ(client->Stats().token_fetches, 2u);
  auto bad = Client(server, Credentials{"u", "wrong-secret", ""});
  auto st = bad->GetManifest("lib/x", "v1");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kPermission);
  EXPECT_EQ(st.error().ToString().find("wrong-secret"), std::string::npos);
}

TEST(ClientTest, ATokenTheRegistryStopsAcceptingIsRenewedOnce) {
  std::string realm;
  std::atomic<int> issued{0};
  std::atomic<bool> refuse_all{false};
  FakeHttpServer server([&](const FakeRequest& r, int) -> FakeResponse {
    if (r.target.starts_with("/token")) {
      int n = ++issued;
      return {Http(200, R"({"token":"T)" + std::to_string(n) + R"(","expires_in":3600})")};
    }
    // The registry revokes every token but the newest (as after a server-side expiry).
    if (!refuse_all && r.Header("authorization") == "Bearer T" + std::to_string(issued.load())) {
      return {Http(200, "{}")};
    }
    return {Http(401, "", {"WWW-Authenticate: Bearer realm=\"" + realm + "\",service=s"})};
  });
  realm = "http://" + server.host() + "/token";
  auto client = Client(server);
  ASSERT_TRUE(client->Ping().has_value());
  EXPECT_EQ(client->Stats().token_fetches, 1u);
  issued = 5;  // the cached T1 is no longer accepted
  ASSERT_TRUE(client->Ping().has_value());
  EXPECT_EQ(client->Stats().token_fetches, 2u);
  refuse_all = true;  // now every token is refused: one renewal, then the error
  auto st = client->Ping();
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kPermission);
  EXPECT_EQ(client->Stats().token_fetches, 3u);
}

TEST(ClientTest, RedirectsDoNotCarryCredentialsToAnotherHost) {
  FakeHttpServer storage(
      [](const FakeRequest&, int) -> FakeResponse { return {Http(200, kBlob)}; });
  FakeHttpServer registry([&storage](const FakeRequest& r, int) -> FakeResponse {
    if (r.Header("authorization") != Basic("u", "p")) {
      return {Http(401, "", {"WWW-Authenticate: Basic realm=x"})};
    }
    return {Http(307, "", {"Location: http://" + storage.host() + "/data?sig=1"})};
  });
  auto client = Client(registry, Credentials{"u", "p", ""});
  Descriptor d{"x", BlobDigest(), kBlob.size(), {}, {}, {}};
  auto got = client->GetBlob("r", d);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(std::string(got->begin(), got->end()), kBlob);
  ASSERT_EQ(storage.requests().size(), 1u);
  EXPECT_EQ(storage.requests()[0].target, "/data?sig=1");
  EXPECT_TRUE(storage.requests()[0].Header("authorization").empty());
}

TEST(ClientTest, RangeAnswersAreCheckedAndSliced) {
  int mode = 0;
  FakeHttpServer server([&mode](const FakeRequest& r, int) -> FakeResponse {
    if (mode == 0) return {Http(200, kBlob)};  // ignores Range
    if (mode == 1) return {Http(206, kBlob.substr(10, 5), {"Content-Range: bytes 11-15/100000"})};
    // mode 2: the first answer is cut short, the retry is complete.
    static int calls = 0;
    std::string body = kBlob.substr(10, 5);
    if (calls++ == 0) {
      return {
          Http(206, body.substr(0, 2), {"Content-Range: bytes 10-14/100000", "Content-Length: 5"}),
          true};
    }
    (void)r;
    return {Http(206, body, {"Content-Range: bytes 10-14/100000"})};
  });
  auto client = Client(server);
  std::vector<uint8_t> out(5);
  ASSERT_TRUE(client->ReadBlobRange("r", BlobDigest(), 50000, out).has_value());
  EXPECT_EQ(std::string(out.begin(), out.end()), kBlob.substr(50000, 5));
  mode = 1;
  auto wrong = client->ReadBlobRange("r", BlobDigest(), 10, out);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::kCorrupt);
  mode = 2;
  uint64_t retries = client->Stats().retries;
  auto st = client->ReadBlobRange("r", BlobDigest(), 10, out);
  ASSERT_TRUE(st.has_value()) << st.error().ToString();
  EXPECT_EQ(std::string(out.begin(), out.end()), kBlob.substr(10, 5));
  EXPECT_EQ(client->Stats().retries, retries + 1);
}

TEST(ClientTest, OpenBlobResumesWithRangeAfterABrokenConnection) {
  FakeHttpServer server([](const FakeRequest& r, int i) -> FakeResponse {
    if (i == 0) {  // promises everything, sends 40000 bytes, hangs up
      return {Http(200, kBlob.substr(0, 40000), {"Content-Length: 100000"}), true};
    }
    std::string range = r.Header("range");
    if (range != "bytes=40000-") return {Http(400)};
    return {Http(206, kBlob.substr(40000), {"Content-Range: bytes 40000-99999/100000"})};
  });
  auto client = Client(server);
  auto stream = client->OpenBlob("r", Descriptor{"x", BlobDigest(), kBlob.size(), {}, {}, {}});
  ASSERT_TRUE(stream.has_value());
  std::string got;
  std::vector<uint8_t> buf(3000);
  while (true) {
    auto n = (*stream)->Read(buf);
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    if (*n == 0) break;
    got.append(buf.begin(), buf.begin() + *n);
  }
  EXPECT_EQ(got, kBlob);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(ClientTest, OpenBlobRejectsWrongContent) {
  FakeHttpServer server([](const FakeRequest&, int) -> FakeResponse {
    std::string bad = kBlob;
    bad[500] = '!';
    return {Http(200, bad)};
  });
  auto client = Client(server);
  auto stream = client->OpenBlob("r", Descriptor{"x", BlobDigest(), kBlob.size(), {}, {}, {}});
  ASSERT_TRUE(stream.has_value());
  std::vector<uint8_t> buf(1 << 17);
  Result<size_t> n = size_t{1};
  while (n.has_value() && *n > 0) n = (*stream)->Read(buf);
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().code, ErrorCode::kCorrupt);
}

TEST(ClientTest, CancelDeadlineAndStallAreBounded) {
  FakeHttpServer server([](const FakeRequest& r, int) -> FakeResponse {
    if (r.target.starts_with("/v2/")) {
      if (r.method == "GET" && r.target.find("/blobs/") != std::string::npos &&
          r.Header("range").empty()) {  // a stalled body
        return {Http(200, kBlob.substr(0, 100), {"Content-Length: 100000"}), true, 0, 4000};
      }
    }
    return {Http(200, "{}"), false, 4000};
  });
  auto client = Client(server, {}, 0);
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  std::vector<uint8_t> out(10);
  auto start = std::chrono::steady_clock::now();
  RequestControl control;
  control.cancel = &cancel;
  auto st = client->ReadBlobRange("r", BlobDigest(), 0, out, control);
  canceller.join();
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kCancelled) << st.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));

  RequestControl deadline;
  deadline.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  start = std::chrono::steady_clock::now();
  auto late = client->ReadBlobRange("r", BlobDigest(), 0, out, deadline);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, ErrorCode::kTimeout) << late.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));

  start = std::chrono::steady_clock::now();
  auto stalled = client->OpenBlob("r", Descriptor{"x", BlobDigest(), kBlob.size(), {}, {}, {}});
  ASSERT_TRUE(stalled.has_value());
  std::vector<uint8_t> buf(1 << 17);
  Result<size_t> n = size_t{1};
  while (n.has_value() && *n > 0) n = (*stalled)->Read(buf);
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().code, ErrorCode::kTimeout) << n.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3500));
}

}  // namespace
}  // namespace tessera::oci
