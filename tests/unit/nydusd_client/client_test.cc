// ApiClient against a fake tesserad (fake_daemon.h, a mock until the real daemon exists).
#include "tessera/nydusd_client/client.h"

#include <gtest/gtest.h>

#include <thread>

#include "fake_daemon.h"

namespace tessera::nydusd::client {
namespace {

using namespace std::chrono_literals;
using testing::FakeDaemon;

ApiClient ClientFor(const std::string& socket) {
  return ApiClient(ApiClientOptions{.socket_path = socket, .timeout = 5s});
}

TEST(ApiClientTest, GetDaemonAndMetrics) {
  FakeDaemon daemon;
  daemon.Start();
  ApiClient client = ClientFor(daemon.socket());
  auto info = client.GetDaemon();
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->state, "running");
  EXPECT_EQ(info->pid, 4242);
  EXPECT_EQ(info->config.backend, "localfs");
  auto metrics = client.GetMetrics();
  ASSERT_TRUE(metrics) << metrics.error().ToString();
  EXPECT_NE(metrics->find("tessera_backend_read_bytes_total 1234\n"), std::string::npos);
}

TEST(ApiClientTest, MountListUnmountAndExit) {
  FakeDaemon daemon;
  daemon.Start();
  ApiClient client = ClientFor(daemon.socket());
  MountRequest req{"/mnt/with space+plus", "/img/boot", "/img/blobs", "", {"/bin/sh"}, true};
  auto mounted = client.Mount(req);
  ASSERT_TRUE(mounted) << mounted.error().ToString();
  EXPECT_EQ(mounted->mountpoint, "/mnt/with space+plus");
  EXPECT_EQ(mounted->cache_dir, "/var/cache/tessera");

  auto again = client.Mount(req);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(again.error().context.find("POST /api/v1/mounts"), std::string::npos);
  EXPECT_NE(again.error().context.find("is already served"), std::string::npos);

  auto list = client.ListMounts();
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0], *mounted);

  ASSERT_TRUE(client.Unmount("/mnt/with space+plus"));  // %-encoded in the query
  EXPECT_TRUE(daemon.mounts().empty());
  auto missing = client.Unmount("/mnt/none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto bad = client.Mount(MountRequest{"relative", "/b", "/d", "", {}, false});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().context.find("'mountpoint'"), std::string::npos);

  ASSERT_TRUE(client.Exit());
  EXPECT_TRUE(daemon.exit_requested());
}

TEST(ApiClientTest, NotRunningIsUnavailableNamingTheSocket) {
  ApiClient client = ClientFor("/nonexistent/tesserad/api.sock");
  auto info = client.GetDaemon();
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(info.error().context, "tesserad is not running at /nonexistent/tesserad/api.sock");
}

TEST(ApiClientTest, MalformedAnswersAreCorrupt) {
  FakeDaemon daemon;
  daemon.Override("GET", std::string(kDaemonPath),
                  HttpResponse::Json(200, R"({"version": "0.1.0"})"));
  daemon.Override("GET", std::string(kMountsPath), HttpResponse::Text(200, "<html>"));
  daemon.Start();
  ApiClient client = ClientFor(daemon.socket());
  auto info = client.GetDaemon();
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(info.error().context.find(daemon.socket()), std::string::npos);
  EXPECT_NE(info.error().context.find("'state'"), std::string::npos) << info.error().ToString();
  auto mounts = client.ListMounts();
  ASSERT_FALSE(mounts);
  EXPECT_EQ(mounts.error().code, ErrorCode::kCorrupt);
}

TEST(ApiClientTest, WaitUntilRunning) {
  FakeDaemon daemon;
  daemon.SetState("starting");
  ApiClient client = ClientFor(daemon.socket());
  // Not even listening yet: the socket appears, then the state turns to running.
  std::thread starter([&] {
    std::this_thread::sleep_for(100ms);
    daemon.Start();
    std::this_thread::sleep_for(100ms);
    daemon.SetState("running");
  });
  auto waited = client.WaitUntilRunning(5s);
  starter.join();
  EXPECT_TRUE(waited) << waited.error().ToString();

  daemon.SetState("stopping");
  auto timed_out = client.WaitUntilRunning(100ms);
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().code, ErrorCode::kTimeout);
  EXPECT_NE(timed_out.error().context.find("stopping"), std::string::npos);
}

}  // namespace
}  // namespace tessera::nydusd::client
