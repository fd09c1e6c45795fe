// tesserad --image: a Tessera image served lazily from a real registry (docker-registry on
// 127.0.0.1): the tree equals the source, only touched chunks cross the network, a restart
// with a warm cache fetches nothing, TLS + basic auth, credentials pushed through the API
// without remounting, token renewal, and mounting an image through the API.
#include <random>
#include <thread>

#include "daemon_registry_fixture.h"
#include "support/tree_gen.h"

#include "tessera/common/http.h"
#include "tessera/common/io.h"

namespace tessera::testing {
namespace {

using Auth = test::RegistryServerOptions::Auth;

// n files of `size` bytes each, compressible and distinct.
void MakeFiles(const std::string& dir, int n, size_t size) {
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  std::mt19937_64 rng(11);
  std::vector<uint8_t> data(size);
  for (int f = 0; f < n; ++f) {
    for (auto& b : data) b = static_cast<uint8_t>(rng() % 13);
    ASSERT_TRUE(WriteFile(dir + "/file" + std::to_string(f), data));
  }
}

Result<HttpResponse> Api(const std::string& sock, std::string_view method, std::string_view target,
                         std::string_view body = {}) {
  HttpClient client(sock);
  return client.Send(method, target, body, "application/json");
}

TEST_F(DaemonRegistryTest, ServesTreeAndRestartsWarmWithoutFetchingBlobs) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  ASSERT_NO_FATAL_FAILURE(StartRegistry());
  std::string ref = PushImage(src, "tessera/edge", "v1");
  ASSERT_EQ(StartImageDaemon(ref, {"--plain-http"}), -1);
  ExpectSameTree(src, mnt_);
  EXPECT_GT(Metric("tessera_registry_requests_total"), 0);
  StopDaemon();
  uint64_t served = registry_->BlobBytesServed();
  uint64_t layer_gets =
      registry_->CountRequests("GET /v2/tessera/edge/blobs/" + bootstrap_layer_digest_);
  EXPECT_EQ(layer_gets, 1u);
  // Warm restart: the bootstrap and every chunk come from the cache directory.
  ASSERT_EQ(StartImageDaemon(ref, {"--plain-http"}), -1);
  ExpectSameTree(src, mnt_);
  EXPECT_EQ(Metric("tessera_backend_read_bytes_total"), 0);
  EXPECT_EQ(Metric("tessera_registry_requests_total"), 0);
  StopDaemon();
  EXPECT_EQ(registry_->BlobBytesServed(), served);
  EXPECT_EQ(registry_->CountRequests("GET /v2/tessera/edge/blobs/" + bootstrap_layer_digest_),
            layer_gets);
}

TEST_F(DaemonRegistryTest, StatOfEverythingAndOneFileFetchesOnlyThatFile) {
  std::string src = Path("src");
  MakeFiles(src, 8, 4 << 20);
  ASSERT_NO_FATAL_FAILURE(StartRegistry());
  std::string ref = PushImage(src, "tessera/lazy", "v1");
  ASSERT_EQ(StartImageDaemon(ref, {"--plain-http"}), -1);
  uint64_t after_mount = registry_->BlobBytesServed();  // the bootstrap layer
  auto walk = RunCapture({"ls", "-lR", mnt_});
  ASSERT_TRUE(walk && walk->exit_code == 0);
  EXPECT_EQ(registry_->BlobBytesServed(), after_mount) << "stat fetched data";
  auto got = ReadAll("file5");
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got == *ReadFile(src + "/file5"));
  double backend = Metric("tessera_backend_read_bytes_total");
  uint64_t fetched = registry_->BlobBytesServed() - after_mount;
  double per_file = static_cast<double>(image_.blob_bytes) / 8;
  // The registry sent what the backend asked for, and that is one file's chunks.
  EXPECT_EQ(static_cast<double>(fetched), backend);
  EXPECT_GE(static_cast<double>(fetched), per_file * 0.9);
  EXPECT_LE(static_cast<double>(fetched), per_file * 1.1)
      << "blob " << image_.blob_bytes << " fetched " << fetched;
  std::printf("laziness: %llu of %llu blob bytes (%.1f%%) for ls -lR + one of 8 files\n",
              static_cast<unsigned long long>(fetched),
              static_cast<unsigned long long>(image_.blob_bytes),
              100.0 * static_cast<double>(fetched) / static_cast<double>(image_.blob_bytes));
  StopDaemon();
}

TEST_F(DaemonRegistryTest, BasicAuthOverTlsAndSecretsNeverLogged) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  ASSERT_NO_FATAL_FAILURE(StartRegistry({.tls = true, .auth = Auth::kBasic}));
  std::string ref = PushImage(src, "tessera/auth", "v1");
  std::string pw = Path("password");
  ASSERT_TRUE(WriteFile(
      pw, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("wrong-pass\n"), 11)));
  // Wrong credentials: a clear error at mount time, naming the image.
  std::vector<std::string> flags = {"--ca-file",
                                    registry_->ca_file(),
                                    "--registry-user",
                                    registry_options_.username,
                                    "--registry-password-file",
                                    pw};
  EXPECT_EQ(StartImageDaemon(ref, flags, false), 1);
  std::string log = DaemonLog();
  EXPECT_NE(log.find("image " + ref), std::string::npos) << log;
  EXPECT_NE(log.find("permission"), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong-pass"), std::string::npos) << log;
  std::string good = registry_options_.password + "\n";
  ASSERT_TRUE(WriteFile(
      pw, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(good.data()), good.size())));
  ASSERT_EQ(StartImageDaemon(ref, flags), -1);
  ExpectSameTree(src, mnt_);
  StopDaemon();
  EXPECT_EQ(DaemonLog().find(registry_options_.password), std::string::npos);
}

TEST_F(DaemonRegistryTest, CredentialsPushedThroughTheApiWithoutRemount) {
  std::string src = Path("src");
  MakeFiles(src, 4, 1 << 20);
  ASSERT_NO_FATAL_FAILURE(StartRegistry({.tls = true, .auth = Auth::kBasic}));
  std::string ref = PushImage(src, "tessera/rotate", "v1");
  std::string pw = Path("password");
  ASSERT_TRUE(WriteFile(pw, std::span<const uint8_t>(
                                reinterpret_cast<const uint8_t*>(registry_options_.password.data()),
                                registry_options_.password.size())));
  ASSERT_EQ(StartImageDaemon(ref, {"--ca-file", registry_->ca_file(), "--registry-user",
                                   registry_options_.username, "--registry-password-file", pw}),
            -1);
  ASSERT_TRUE(ReadAll("file0"));
  std::string bad = R"({"registry_auth": {"username": "tessera", "password": "stale-secret"}})";
  auto r = Api(sock_, "PUT", "/api/v1/config", bad);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("\"updated\":1"), std::string::npos) << r->body;
  auto refused = ReadAll("file1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().sys_errno, EIO);
  // The right password again, through tesseractl (the password comes from a file).
  auto ctl = RunCapture({BinPath("tesseractl"), "--apisock", sock_, "registry-auth", "--user",
                         registry_options_.username, "--password-file", pw});
  ASSERT_TRUE(ctl);
  ASSERT_EQ(ctl->exit_code, 0) << ctl->output;
  EXPECT_NE(ctl->output.find("1 registry endpoint(s) updated"), std::string::npos) << ctl->output;
  auto got = ReadAll("file1");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_TRUE(*got == *ReadFile(src + "/file1"));
  StopDaemon();
  std::string log = DaemonLog();
  EXPECT_EQ(log.find("stale-secret"), std::string::npos);
  EXPECT_EQ(log.find(registry_options_.password), std::string::npos);
}

TEST_F(DaemonRegistryTest, ExpiredTokenIsRenewed) {
  std::string src = Path("src");
  MakeFiles(src, 3, 1 << 20);
  ASSERT_NO_FATAL_FAILURE(StartRegistry({.auth = Auth::kToken, .token_ttl_seconds = 2}));
  std::string ref = PushImage(src, "tessera/token", "v1");
  std::string pw = Path("password");
  ASSERT_TRUE(WriteFile(pw, std::span<const uint8_t>(
                                reinterpret_cast<const uint8_t*>(registry_options_.password.data()),
                                registry_options_.password.size())));
  ASSERT_EQ(StartImageDaemon(ref, {"--plain-http", "--registry-user", registry_options_.username,
                                   "--registry-password-file", pw}),
            -1);
  ASSERT_TRUE(ReadAll("file0"));
  // Real time must pass for the token to expire; nothing to poll for.
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  auto got = ReadAll("file2");
  ASSERT_TRUE(got) << got.error().ToString() << "\n" << DaemonLog();
  EXPECT_TRUE(*got == *ReadFile(src + "/file2"));
  StopDaemon();
}

TEST_F(DaemonRegistryTest, ConfigFileNamesTheImageMirrorsAndTimeouts) {
  std::string src = Path("src");
  MakeFiles(src, 2, 1 << 20);
  ASSERT_NO_FATAL_FAILURE(StartRegistry());
  std::string ref = PushImage(src, "tessera/config", "v1");
  std::string config = Path("tesserad.json");
  std::string text = R"({"backend": {"type": "registry", "image": ")" + ref +
                     R"(", "scheme": "http", "timeout_ms": 5000, "retry_limit": 2,)"
                     R"( "hedge_delay_ms": 2000, "mirrors": [{"host": ")" +
                     registry_->host() + R"(", "scheme": "http"}]}})";
  ASSERT_TRUE(WriteFile(config, std::span<const uint8_t>(
                                    reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  ChildProcess::Options o;
  o.argv = {BinPath("tesserad"), "--config", config,      "--mountpoint", mnt_,
            "--cache-dir",       cache_,     "--apisock", sock_};
  o.stderr_path = Path("tesserad.log");
  auto child = ChildProcess::Spawn(o);
  ASSERT_TRUE(child);
  daemon_.emplace(std::move(*child));
  for (int i = 0; i < 200 && !Mounted(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(Mounted()) << DaemonLog();
  ExpectSameTree(src, mnt_);
  auto mounts = Api(sock_, "GET", "/api/v1/mounts");
  ASSERT_TRUE(mounts);
  // The primary and the mirror, both healthy.
  EXPECT_NE(mounts->body.find(R"("registry_endpoints":[{"failures":0,"healthy":true,"host":")" +
                              registry_->host() + R"(",)"),
            std::string::npos)
      << mounts->body;
  EXPECT_EQ(mounts->body.find("\"healthy\":false"), std::string::npos) << mounts->body;
  StopDaemon();
}

TEST_F(DaemonRegistryTest, MountsAnImageThroughTheApi) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  ASSERT_NO_FATAL_FAILURE(StartRegistry());
  std::string ref = PushImage(src, "tessera/api", "v1");
  // A daemon with only the API, then a mount request naming the image.
  ASSERT_NO_FATAL_FAILURE(StartApiDaemon());
  std::string body = R"({"mountpoint": ")" + mnt_ + R"(", "image": ")" + ref +
                     R"(", "registry": {"scheme": "http", "timeout_ms": 5000}})";
  Result<HttpResponse> r = MakeError(ErrorCode::kUnavailable, "not tried");
  for (int i = 0; i < 100; ++i) {
    r = Api(sock_, "POST", "/api/v1/mounts", body);
    if (r) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_NE(r->body.find("\"backend\":\"registry\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("\"registry_endpoints\""), std::string::npos) << r->body;
  ExpectSameTree(src, mnt_);
  StopDaemon();
}

}  // namespace
}  // namespace tessera::testing
