// The cache size limit: cache files of images no longer served go first, then cold chunks of
// the served image; evicted data is fetched again transparently, never served wrong.
#include <sys/stat.h>

#include <random>
#include <thread>

#include "daemon_fixture.h"

namespace tessera::testing {
namespace {

TEST_F(DaemonTest, CacheLimitEvictsUnusedFilesThenColdChunks) {
  std::string src = Path("src");
  ASSERT_TRUE(MakeDir(src));
  std::mt19937_64 rng(3);
  for (int f = 0; f < 6; ++f) {
    std::vector<uint8_t> data(2 << 20);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    ASSERT_TRUE(WriteFile(src + "/f" + std::to_string(f), data));
  }
  BuildImage(src);
  // A leftover cache file of an image nobody serves any more.
  ASSERT_TRUE(MakeDir(cache_));
  std::string stale = cache_ + "/" + std::string(64, 'a') + ".raw";
  ASSERT_TRUE(WriteFile(stale, std::vector<uint8_t>(4 << 20, 1)));
  StartDaemon({"--cache-limit", std::to_string(3 << 20)});
  for (int round = 0; round < 2; ++round) {
    for (int f = 0; f < 6; ++f) {
      auto got = ReadAll("f" + std::to_string(f));
      auto want = ReadFile(src + "/f" + std::to_string(f));
      ASSERT_TRUE(got && want);
      EXPECT_TRUE(*got == *want) << "f" << f << " round " << round;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(4500));  // two flush/evict passes
    // Forget the kernel's page cache so the next round reaches the daemon again.
    ASSERT_TRUE(WriteFile("/proc/sys/vm/drop_caches", std::vector<uint8_t>{'3'}));
  }
  struct stat st {};
  EXPECT_NE(::stat(stale.c_str(), &st), 0) << "the unused image's cache file was kept";
  std::string m = Metrics();
  ASSERT_FALSE(m.empty());
  EXPECT_GT(MetricValue(m, "tessera_cache_evicted_bytes_total"), 4 << 20);
  EXPECT_LE(MetricValue(m, "tessera_cache_bytes"), 3 << 20);
  // 12 MiB read twice through a 3 MiB cache: the backend was read again for evicted data.
  EXPECT_GT(MetricValue(m, "tessera_backend_read_bytes_total"), 13 << 20);
  StopDaemon();
}

}  // namespace
}  // namespace tessera::testing
