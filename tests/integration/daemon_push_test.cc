// Pushing small cached files into the page cache ahead of a reader (fuse.push_ahead_bytes): a
// reader walking a directory in listing order gets the exact bytes with far fewer FUSE reads;
// pushing never fetches from the backend and never stores bytes that failed their digest.
#include <dirent.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "daemon_fixture.h"

namespace tessera::testing {
namespace {

constexpr int kFiles = 120;
const char* kReadCount = "tessera_fuse_op_duration_seconds_count{op=\"read\"}";

class DaemonPushTest : public DaemonTest {
 protected:
  // dir/ with kFiles small files of 3-9 KB (distinct bytes, each with a marker), a large file
  // and a subdirectory among them.
  void MakeSource() {
    src_ = Path("src");
    ASSERT_TRUE(MakeDir(src_));
    ASSERT_TRUE(MakeDir(src_ + "/dir"));
    ASSERT_TRUE(MakeDir(src_ + "/dir/sub"));
    for (int f = 0; f < kFiles; ++f) {
      std::string name = "f" + std::to_string(1000 + f);
      std::string text = "MARKER-" + name + "-";
      std::vector<uint8_t> data(3000 + (f * 509) % 6000);
      for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 31 + f * 7);
      std::copy(text.begin(), text.end(), data.begin() + 100);
      ASSERT_TRUE(WriteFile(src_ + "/dir/" + name, data));
      files_[name] = data;
    }
    std::vector<uint8_t> big(600 * 1024, 'b');
    ASSERT_TRUE(WriteFile(src_ + "/dir/f1050big", big));
    files_["f1050big"] = big;
    BuildImage(src_, {"--compression", "none"});
  }

  void StartWithPush(uint64_t window) {
    std::string config = Path("push.json");
    std::ofstream(config) << "{\"fuse\": {\"push_ahead_bytes\": " << window << "}}";
    StartDaemon({"--config", config});
  }

  // Lists mnt/dir (the kernel asks the daemon once), then reads every regular file in listing
  // order like tar; returns the number of files whose bytes differ from the source.
  int ReadDirInOrder() {
    std::vector<std::string> names;
    DIR* d = ::opendir((mnt_ + "/dir").c_str());
    EXPECT_NE(d, nullptr);
    if (d == nullptr) return -1;
    while (dirent* e = ::readdir(d)) {
      if (e->d_type == DT_REG) names.push_back(e->d_name);
    }
    ::closedir(d);
    EXPECT_EQ(names.size(), files_.size());
    int wrong = 0;
    for (const std::string& n : names) {
      auto got = ReadAll("dir/" + n);
      if (!got || *got != files_[n]) ++wrong;
    }
    return wrong;
  }

  std::string src_;
  std::map<std::string, std::vector<uint8_t>> files_;
};

TEST_F(DaemonPushTest, SequentialReaderGetsExactBytesWithFewReads) {
  MakeSource();
  // First pass fills the cache; a restarted daemon is a new mount with an empty page cache.
  StartWithPush(0);
  ASSERT_EQ(ReadDirInOrder(), 0);
  StopDaemon();

  StartWithPush(0);
  ASSERT_EQ(ReadDirInOrder(), 0);
  std::string off = Metrics();
  double reads_off = MetricValue(off, kReadCount);
  EXPECT_GE(reads_off, kFiles) << "without pushing every file is a FUSE read";
  EXPECT_EQ(MetricValue(off, "tessera_fuse_pushed_files_total"), 0);
  StopDaemon();

  StartWithPush(1 << 20);
  ASSERT_EQ(ReadDirInOrder(), 0);
  std::string on = Metrics();
  double reads_on = MetricValue(on, kReadCount);
  double pushed = MetricValue(on, "tessera_fuse_pushed_files_total");
  // Pushes run on their own thread, so a fast reader sometimes gets to a file first (then it is
  // an ordinary read); most files still need no request.
  EXPECT_LE(reads_on, kFiles * 2 / 3) << on;
  EXPECT_GE(pushed, kFiles / 3) << on;
  EXPECT_GT(MetricValue(on, "tessera_fuse_pushed_bytes_total"), pushed * 2999);
  EXPECT_EQ(MetricValue(on, "tessera_backend_read_bytes_total"), 0);
  StopDaemon();
}

TEST_F(DaemonPushTest, PushingNeverFetchesFromTheBackend) {
  MakeSource();
  // Cold cache: read one file; pushing may only use what that read brought into the cache, so
  // the backend bytes are the same as without pushing.
  double fetched[2];
  for (int on = 0; on < 2; ++on) {
    std::filesystem::remove_all(cache_);
    StartWithPush(on ? 1 << 20 : 0);
    DIR* d = ::opendir((mnt_ + "/dir").c_str());
    ASSERT_NE(d, nullptr);
    while (::readdir(d) != nullptr) {
    }
    ::closedir(d);
    auto got = ReadAll("dir/f1000");
    ASSERT_TRUE(got);
    EXPECT_TRUE(*got == files_["f1000"]);
    fetched[on] = MetricValue(Metrics(), "tessera_backend_read_bytes_total");
    StopDaemon();
  }
  EXPECT_GT(fetched[0], 0);
  EXPECT_EQ(fetched[1], fetched[0]);
  // And every file still reads right afterwards, from a cache partly filled.
  StartWithPush(1 << 20);
  EXPECT_EQ(ReadDirInOrder(), 0);
  StopDaemon();
}

TEST_F(DaemonPushTest, DamagedCachedBytesAreNeverPushed) {
  MakeSource();
  StartWithPush(0);
  ASSERT_EQ(ReadDirInOrder(), 0);
  StopDaemon();
  // Damage three small files' bytes in the cache file (laid out like the raw device).
  std::string raw;
  for (const auto& e : std::filesystem::directory_iterator(cache_)) {
    if (e.path().extension() == ".raw") raw = e.path();
  }
  ASSERT_FALSE(raw.empty());
  auto bytes = ReadFile(raw);
  ASSERT_TRUE(bytes);
  std::string text(bytes->begin(), bytes->end());
  for (const char* victim : {"f1005", "f1006", "f1040"}) {
    size_t at = text.find(std::string("MARKER-") + victim + "-");
    ASSERT_NE(at, std::string::npos) << victim;
    (*bytes)[at] ^= 0x20;
  }
  ASSERT_TRUE(WriteFile(raw, *bytes));

  // Sequential reads with pushing: every file has its source bytes (the damaged ones detected,
  // not pushed, fetched again for their reader), and the damage is counted.
  StartWithPush(1 << 20);
  EXPECT_EQ(ReadDirInOrder(), 0);
  std::string m = Metrics();
  EXPECT_GE(MetricValue(m, "tessera_chunk_corrupt_total"), 3) << m;
  EXPECT_GT(MetricValue(m, "tessera_fuse_pushed_files_total"), 0) << m;
  EXPECT_GT(MetricValue(m, "tessera_backend_read_bytes_total"), 0) << m;
  StopDaemon();
}

}  // namespace
}  // namespace tessera::testing
