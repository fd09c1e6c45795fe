// A chunk whose bytes do not match its sha256 is never served: the reader gets EIO, other files
// still read, and the bad chunk is not cached.
#include <cerrno>

#include "daemon_fixture.h"

namespace tessera::testing {
namespace {

TEST_F(DaemonTest, CorruptChunkGivesEioAndOthersStillRead) {
  std::string src = Path("src");
  ASSERT_TRUE(MakeDir(src));
  std::string marker = "TESSERA-CORRUPTION-MARKER";
  std::string victim(300000, 'v');
  victim.replace(150000, marker.size(), marker);
  std::string healthy(300000, 'h');
  auto bytes = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  ASSERT_TRUE(WriteFile(src + "/victim", bytes(victim)));
  ASSERT_TRUE(WriteFile(src + "/healthy", bytes(healthy)));
  // Raw frames (no compression) so the test can find the victim's bytes in the blob.
  std::string blob = BuildImage(src, {"--compression", "none", "--chunk-size", "64K"});
  std::string path = blobs_ + "/" + blob;
  auto data = ReadFile(path);
  ASSERT_TRUE(data);
  std::string text(data->begin(), data->end());
  size_t at = text.find(marker);
  ASSERT_NE(at, std::string::npos);
  (*data)[at] ^= 0x20;
  ASSERT_TRUE(WriteFile(path, *data));

  StartDaemon();
  auto bad = ReadAll("victim");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().sys_errno, EIO) << bad.error().ToString();
  auto good = ReadAll("healthy");
  ASSERT_TRUE(good) << good.error().ToString();
  EXPECT_TRUE(*good == bytes(healthy));
  // Still refused on a second try: nothing bad was cached.
  EXPECT_FALSE(ReadAll("victim"));
  std::string metrics = Metrics();
  ASSERT_FALSE(metrics.empty()) << "no metrics from the API";
  EXPECT_GE(MetricValue(metrics, "tessera_chunk_corrupt_total"), 1);
  StopDaemon();
}

}  // namespace
}  // namespace tessera::testing
