// Prefetch: the bootstrap's prefetch table is fetched in the background after the mount, and
// nothing else; a bandwidth limit slows it down.
#include <chrono>
#include <random>
#include <thread>

#include "daemon_fixture.h"

namespace tessera::testing {
namespace {

class DaemonPrefetchTest : public DaemonTest {
 protected:
  // Four 4 MiB incompressible files; the prefetch list names two of them.
  Created MakeImage() {
    std::string src = Path("src");
    EXPECT_TRUE(MakeDir(src));
    std::mt19937_64 rng(11);
    for (int f = 0; f < 4; ++f) {
      std::vector<uint8_t> data(4 << 20);
      for (auto& b : data) b = static_cast<uint8_t>(rng());
      EXPECT_TRUE(WriteFile(src + "/f" + std::to_string(f), data));
    }
    std::string list = "f1\nf3\n";
    EXPECT_TRUE(WriteFile(Path("prefetch.txt"), std::vector<uint8_t>(list.begin(), list.end())));
    return Create(src, boot_, {"--prefetch-list", Path("prefetch.txt")});
  }
  // Waits until the metrics say the prefetch list is done; returns the metrics text.
  std::string WaitForPrefetch(std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    std::string m;
    while (std::chrono::steady_clock::now() < until) {
      m = Metrics();
      double total = MetricValue(m, "tessera_prefetch_files_total");
      if (total > 0 && MetricValue(m, "tessera_prefetch_files_done") == total) return m;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return m;
  }
};

TEST_F(DaemonPrefetchTest, PrefetchTableIsFetchedAndNothingElse) {
  Created image = MakeImage();
  StartDaemon();
  std::string m = WaitForPrefetch(std::chrono::seconds(30));
  ASSERT_EQ(MetricValue(m, "tessera_prefetch_files_done"), 2) << m;
  // Two of four equal-sized files: half the blob, within a frame of slack.
  double fetched = MetricValue(m, "tessera_backend_read_bytes_total");
  EXPECT_GE(fetched, 8 << 20);
  EXPECT_LE(fetched, (8 << 20) + (1 << 20)) << "blob " << image.blob_bytes;
  // Reading a prefetched file needs no backend request.
  double before = MetricValue(m, "tessera_backend_requests_total");
  ASSERT_TRUE(ReadAll("f3"));
  EXPECT_EQ(MetricValue(Metrics(), "tessera_backend_requests_total"), before);
  StopDaemon();
}

TEST_F(DaemonPrefetchTest, RateLimitSlowsPrefetch) {
  MakeImage();
  auto start = std::chrono::steady_clock::now();
  StartDaemon({"--prefetch-rate", std::to_string(4 << 20)});  // 8 MiB at 4 MiB/s: ~2 s
  std::string m = WaitForPrefetch(std::chrono::seconds(30));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(MetricValue(m, "tessera_prefetch_files_done"), 2) << m;
  EXPECT_GE(took, std::chrono::milliseconds(1500));
  StopDaemon();
}

}  // namespace
}  // namespace tessera::testing
