// Mutates every byte of small mkfs.erofs images (with the superblock checksum recomputed, so the
// change reaches the parsers) and walks/reads the result. Only asserts that nothing crashes or
// reads out of bounds: run it under ASan/UBSan.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "reader_test_util.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/erofs/reader.h"

namespace tessera::erofs {
namespace {

using namespace reader_test;  // NOLINT

struct SweepStats {
  size_t mutations = 0;
  size_t opened = 0;
  size_t clean = 0;  // opened, walked and read without any error
};

// For each byte in [begin, end): flip the low bit, flip the high bit, set all bits.
SweepStats Sweep(const std::vector<uint8_t>& base, size_t begin, size_t end,
                 std::span<const ByteSource* const> devices) {
  SweepStats stats;
  std::vector<uint8_t> img = base;
  for (size_t pos = begin; pos < end && pos < base.size(); ++pos) {
    const uint8_t orig = base[pos];
    for (uint8_t value : {uint8_t(orig ^ 0x01), uint8_t(orig ^ 0x80), uint8_t(0xFF)}) {
      if (value == orig) continue;
      img[pos] = value;
      FixChecksum(img);
      ++stats.mutations;
      auto reader = Reader::OpenBytes(img);
      if (reader.has_value()) {
        ++stats.opened;
        Status st = ExerciseAll(*reader, devices);
        if (st.has_value()) {
          ++stats.clean;
        } else {
          EXPECT_FALSE(st.error().context.empty());
        }
      } else {
        EXPECT_FALSE(reader.error().context.empty());
      }
      std::copy(base.begin() + 1028, base.begin() + 1032, img.begin() + 1028);  // checksum
      img[pos] = orig;
    }
  }
  return stats;
}

class ReaderSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_MKFS_AND_ROOT();
    auto dir = TempDir::Create("tessera-reader-sweep");
    ASSERT_TRUE(dir.has_value());
    tmp_ = std::make_unique<TempDir>(std::move(*dir));
    src_ = tmp_->path() + "/src";
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    MakeSmallTree(src_);
  }

  std::unique_ptr<TempDir> tmp_;
  std::string src_;
};

TEST_F(ReaderSweepTest, EveryMetadataByteOfAPlainImage) {
  const std::string image = tmp_->path() + "/plain.erofs";
  ASSERT_TRUE(RunMkfs({"-T0"}, image, src_).has_value());
  auto base = ReadFile(image);
  ASSERT_TRUE(base.has_value());
  auto reader = Reader::OpenBytes(*base);
  ASSERT_TRUE(reader.has_value());
  // Metadata: block 0 (superblock, inodes, inline tails) plus the directory blocks; blocks of
  // regular-file data only change content.
  SweepStats stats = Sweep(*base, 1024, 4096, {});
  size_t dir_blocks = 0;
  Status st = reader->Walk([&](const std::string&, const DirEntry&, const InodeInfo& inode) {
    if (S_ISDIR(inode.mode) && inode.raw_blkaddr != kNullAddr && inode.size > 0) {
      const uint64_t start = uint64_t{inode.raw_blkaddr} * 4096;
      const SweepStats more = Sweep(*base, start, start + inode.size, {});
      stats.mutations += more.mutations;
      stats.opened += more.opened;
      stats.clean += more.clean;
      ++dir_blocks;
    }
    return Ok();
  });
  ASSERT_TRUE(st.has_value());
  std::printf(
      "plain sweep: %zu mutations (block 0 and %zu directory blocks), %zu opened, %zu "
      "walked cleanly\n",
      stats.mutations, dir_blocks, stats.opened, stats.clean);
  EXPECT_GT(stats.mutations, 2u * 3072);
}

TEST_F(ReaderSweepTest, EveryMetadataByteOfAChunkedImage) {
  const std::string image = tmp_->path() + "/chunked.erofs";
  const std::string blob = tmp_->path() + "/blob.img";
  ASSERT_TRUE(RunMkfs({"-T0", "--chunksize=4096", "--blobdev=" + blob}, image, src_).has_value());
  auto base = ReadFile(image);
  ASSERT_TRUE(base.has_value());
  auto blob_src = FileSource::Open(blob);
  ASSERT_TRUE(blob_src.has_value());
  const ByteSource* devices[] = {blob_src->get()};
  ASSERT_TRUE(ExerciseAll(*Reader::OpenBytes(*base), devices).has_value());
  const SweepStats stats = Sweep(*base, 1024, 4096, devices);  // superblock, inodes, indexes
  std::printf("chunked sweep: %zu mutations, %zu opened, %zu walked cleanly\n", stats.mutations,
              stats.opened, stats.clean);
  EXPECT_GT(stats.mutations, 0u);
}

}  // namespace
}  // namespace tessera::erofs
