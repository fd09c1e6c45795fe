// tesserad end to end: a real FUSE mount compared with the source tree, cold and warm; restart
// from the cache with the backend gone; the kernel mounting the cache files; laziness; crash.
#include <sys/stat.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "daemon_fixture.h"
#include "support/tree_gen.h"

namespace tessera::testing {
namespace {

TEST_F(DaemonTest, ServesTreeColdAndWarm) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  BuildImage(src);
  StartDaemon();
  ExpectSameTree(src, mnt_);  // cold: every chunk fetched from the backend
  ExpectSameTree(src, mnt_);  // warm
  StopDaemon();
}

TEST_F(DaemonTest, RestartServesFromCacheWithoutBackend) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  BuildImage(src);
  StartDaemon();
  ExpectSameTree(src, mnt_);
  StopDaemon();
  // With the blobs gone, only the cache can answer.
  ASSERT_EQ(::rename(blobs_.c_str(), Path("blobs.gone").c_str()), 0);
  ASSERT_TRUE(MakeDir(blobs_));
  StartDaemon();
  ExpectSameTree(src, mnt_);
  StopDaemon();
}

TEST_F(DaemonTest, KernelMountOfCacheFilesEqualsSource) {
  std::string src = Path("doc");
  auto cp = RunCapture({"cp", "-a", "/usr/share/doc", src});
  ASSERT_TRUE(cp && cp->exit_code == 0);
  std::string blob = BuildImage(src);
  StartDaemon({"--prefetch-all"});
  ExpectSameTree(src, mnt_);
  StopDaemon();
  auto kernel = Mount(boot_, {cache_ + "/" + blob + ".raw"});
  ASSERT_TRUE(kernel) << kernel.error().ToString();
  ExpectSameTree(src, kernel->path());
}

TEST_F(DaemonTest, StatOfEverythingAndOneFileFetchesOnlyThatFile) {
  std::string src = Path("src");
  ASSERT_TRUE(MakeDir(src));
  std::vector<uint8_t> data(10 << 20);
  std::mt19937_64 rng(7);
  for (int f = 0; f < 8; ++f) {
    for (auto& b : data) b = static_cast<uint8_t>(rng() % 7);  // compressible, distinct
    ASSERT_TRUE(WriteFile(src + "/file" + std::to_string(f), data));
  }
  Created image = Create(src, boot_);
  StartDaemon();
  auto walk = RunCapture({"find", mnt_, "-printf", "%s %m %u\\n"});
  ASSERT_TRUE(walk && walk->exit_code == 0);
  std::string before = Metrics();
  ASSERT_FALSE(before.empty()) << "no metrics from the API";
  EXPECT_EQ(MetricValue(before, "tessera_backend_read_bytes_total"), 0) << "stat fetched data";
  auto bytes = ReadAll("file3");
  ASSERT_TRUE(bytes);
  auto want = ReadFile(src + "/file3");
  EXPECT_TRUE(*bytes == *want);
  // The backend delivered that one file's compressed chunks (an eighth of the blob), no more.
  double fetched = MetricValue(Metrics(), "tessera_backend_read_bytes_total");
  double per_file = static_cast<double>(image.blob_bytes) / 8;
  EXPECT_GE(fetched, per_file * 0.8) << "blob " << image.blob_bytes;
  EXPECT_LE(fetched, per_file * 1.2) << "blob " << image.blob_bytes;
  StopDaemon();
  // What was fetched sits in the sparse cache file: that one file, nothing more.
  struct stat st {};
  ASSERT_EQ(::stat((cache_ + "/" + image.blob_id + ".raw").c_str(), &st), 0);
  uint64_t cached = static_cast<uint64_t>(st.st_blocks) * 512;
  EXPECT_GE(cached, 10u << 20);
  EXPECT_LE(cached, (10u << 20) + (1u << 20)) << "cached " << cached;
}

TEST_F(DaemonTest, RestartReadsCachedDataWithZeroBackendBytes) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  BuildImage(src);
  StartDaemon();
  ExpectSameTree(src, mnt_);
  EXPECT_GT(MetricValue(Metrics(), "tessera_backend_read_bytes_total"), 0);
  StopDaemon();
  StartDaemon();
  ExpectSameTree(src, mnt_);
  EXPECT_EQ(MetricValue(Metrics(), "tessera_backend_read_bytes_total"), 0);
  EXPECT_EQ(MetricValue(Metrics(), "tessera_chunks_ready"),
            MetricValue(Metrics(), "tessera_chunks_total"));
  StopDaemon();
}

TEST_F(DaemonTest, ConcurrentReadersGetExactBytes) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  BuildImage(src, {"--chunk-size", "64K"});
  StartDaemon();
  std::vector<std::string> files = {"files/size_4097", "files/size_1048577", "files/size_10485760",
                                    "files/size_65539", "files/size_8191"};
  std::atomic<int> bad{0}, reads{0};
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; std::chrono::steady_clock::now() < until; ++i) {
        const std::string& f = files[i % files.size()];
        auto got = ReadAll(f);
        auto want = ReadFile(src + "/" + f);
        if (!got || !want || *got != *want) ++bad;
        ++reads;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_GT(reads.load(), 8);
  StopDaemon();
}

TEST_F(DaemonTest, KilledDaemonLeavesNoHangingMount) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  BuildImage(src);
  StartDaemon();
  KillDaemon();
  // The kernel answers ENOTCONN at once instead of blocking the reader.
  auto start = std::chrono::steady_clock::now();
  struct stat st {};
  EXPECT_NE(::stat((mnt_ + "/files").c_str(), &st), 0);
  // ECONNABORTED when the connection was served over io_uring (its teardown aborts it).
  EXPECT_TRUE(errno == ENOTCONN || errno == ECONNABORTED) << std::strerror(errno);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(Mounted());  // stale until detached; TearDown detaches it
}

TEST_F(DaemonTest, ServesOverIoUringWhenTheKernelOffersIt) {
  std::string why;
  if (!EnableKernelUring(&why)) GTEST_SKIP() << why;
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  BuildImage(src);
  std::string off = Path("no-uring.json");
  std::ofstream(off) << R"({"fuse": {"io_uring": false}})";
  const char* kUring = "tessera_fuse_uring_requests_total";
  for (bool uring : {true, false}) {
    SCOPED_TRACE(uring ? "io_uring" : "/dev/fuse");
    if (uring) {
      StartDaemon();
    } else {
      StartDaemon({"--config", off});
    }
    ExpectSameTree(src, mnt_);
    double served = MetricValue(Metrics(), kUring);
    if (uring) {
      EXPECT_GT(served, 10) << "requests did not come over io_uring";
    } else {
      EXPECT_EQ(served, 0);
    }
    StopDaemon();
  }
}

}  // namespace
}  // namespace tessera::testing
