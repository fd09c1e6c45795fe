// BlobCache reads: cold reads equal the raw device the extents describe, holes read as zeros,
// bounds, cache hits, CacheFiles() and Usage().
#include <sys/stat.h>

#include <cstdint>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include "cache_test_fixture.h"

#include "tessera/storage/cache.h"

namespace tessera::storage::cache_test {
namespace {

// Big chunks get a frame each, chunks 4 and 5 share one, chunk 6 sits alone in the last frame.
const std::vector<size_t> kSizes = {5000, 9000, 4096, 12000, 700, 1500, 3000, 6000};

class CacheReadTest : public CacheTest {
 protected:
  // Blob 0 with kSizes, placed in four files with empty blocks between some of them.
  void BuildStandard(Layout layout, const BlobWriterOptions& options = RawFrames()) {
    AddBlob(kSizes, options);
    DeviceSpec dev{layout, {{{0, 1}}, {{2}, 1}, {{3, 4, 5}}, {{6, 7}, 2}}};
    Build({dev});
  }
  uint64_t RawSize() const { return image_.raw[0].size(); }

  // Frames (global index) holding the chunks of the extents overlapping [offset, +length).
  std::set<uint32_t> FramesUnder(uint64_t offset, uint64_t length) const {
    std::set<uint32_t> frames;
    for (const ExtentEntry& e : Extents(0)) {
      if (e.raw_offset < offset + length && e.raw_offset + e.size > offset) {
        frames.insert(image_.tables->chunks[e.chunk].frame);
      }
    }
    return frames;
  }
};

TEST_F(CacheReadTest, ColdReadOfWholeDeviceEqualsPlacedChunks) {
  BuildStandard(Layout::kAligned);
  ASSERT_EQ(image_.tables->frames.size(), 7u) << "blob layout assumed by this test changed";
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  uint64_t blob_data = 0;
  for (const FrameEntry& f : image_.tables->frames) blob_data += f.compressed_size;
  EXPECT_EQ(backend_->RequestedBytes(), blob_data) << "every frame fetched exactly once";
  EXPECT_EQ(backend_->RequestCount(), 1u) << "adjacent frames merge into one read";
  EXPECT_EQ(observer_.backend_ok, 1u);
  EXPECT_EQ(observer_.backend_bytes, blob_data);
  EXPECT_EQ(observer_.misses, 1u);
  EXPECT_EQ(observer_.miss_bytes, RawSize());
  EXPECT_EQ(observer_.extents_ready, kSizes.size());
  EXPECT_EQ(observer_.corrupt, 0u);
}

TEST_F(CacheReadTest, ColdWindowsAcrossExtentAndBlockBoundaries) {
  BuildStandard(Layout::kAligned);
  std::vector<std::pair<uint64_t, uint64_t>> windows = {
      {4095, 2}, {8190, 4}, {4096 * 5 - 100, 4296}, {1, RawSize() - 2}, {RawSize() - 1, 1}};
  for (const ExtentEntry& e : Extents(0)) {
    uint64_t end = e.raw_offset + e.size;
    windows.push_back({e.raw_offset, 1});
    windows.push_back({e.raw_offset, e.size});
    windows.push_back({end - 1, 2});  // last byte of the chunk and the zero after it
    windows.push_back({e.raw_offset + e.size / 2, std::min<uint64_t>(e.size, RawSize() - end)});
    if (e.raw_offset > 0) windows.push_back({e.raw_offset - 1, 2});
  }
  for (auto [offset, length] : windows) {
    SCOPED_TRACE("window [" + std::to_string(offset) + ", +" + std::to_string(length) + ")");
    ResetCacheDir();
    backend_->ClearRequests();
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    EXPECT_TRUE(ReadMatches(**cache, 0, offset, length));
    // Lazy: exactly the frames under the window are fetched, and all their chunks stored.
    std::set<uint32_t> frames = FramesUnder(offset, length);
    uint64_t want_bytes = 0;
    for (uint32_t f : frames) want_bytes += image_.tables->frames[f].compressed_size;
    EXPECT_EQ(backend_->RequestedBytes(), want_bytes);
    uint64_t want_ready = 0;
    for (const ExtentEntry& e : Extents(0)) {
      want_ready += frames.count(image_.tables->chunks[e.chunk].frame);
    }
    EXPECT_EQ((*cache)->Usage().extents_ready, want_ready);
  }
}

TEST_F(CacheReadTest, GapsReadAsZerosWithoutBackend) {
  BuildStandard(Layout::kAligned);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  // The empty block before chunk 2, the blocks before chunk 6 and the tail of chunk 0's block.
  const ExtentEntry& c1 = Extents(0)[1];
  const ExtentEntry& c2 = Extents(0)[2];
  const ExtentEntry& c6 = Extents(0)[6];
  ASSERT_GT(c2.raw_offset, AlignUp(c1.raw_offset + c1.size)) << "no gap block before chunk 2";
  std::vector<std::pair<uint64_t, uint64_t>> gaps = {
      {c1.raw_offset + c1.size, c2.raw_offset - (c1.raw_offset + c1.size)},
      {c6.raw_offset - 2 * kBlockSize, 2 * kBlockSize},
      {Extents(0)[0].raw_offset + kSizes[0], 10}};
  for (auto [offset, length] : gaps) {
    std::vector<uint8_t> got(length, 0xEE);
    Status st = (*cache)->ReadRaw(0, offset, got);
    ASSERT_TRUE(st) << Describe(st);
    EXPECT_TRUE(AllZero(got)) << "gap at " << offset << " is not zero";
  }
  EXPECT_EQ(backend_->RequestCount(), 0u) << "a hole needs no backend read";
  EXPECT_EQ((*cache)->Usage().extents_ready, 0u);
}

TEST_F(CacheReadTest, EndToEndExtentsShareBlocks) {
  BuildStandard(Layout::kEndToEnd);
  const auto extents = Extents(0);
  // Chunks 0 and 1 are back to back, so chunk 1 starts inside chunk 0's second block.
  ASSERT_EQ(extents[1].raw_offset, extents[0].raw_offset + extents[0].size);
  ASSERT_NE(extents[1].raw_offset % kBlockSize, 0u);
  // Block by block, each read on a cold cache.
  for (uint64_t block = 0; block * kBlockSize < RawSize(); ++block) {
    SCOPED_TRACE("block " + std::to_string(block));
    ResetCacheDir();
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    EXPECT_TRUE(ReadMatches(**cache, 0, block * kBlockSize, kBlockSize));
  }
  // The block holding the end of chunk 0 and the start of chunk 1 needs both frames.
  ResetCacheDir();
  backend_->ClearRequests();
  auto cache = Open();
  ASSERT_TRUE(cache);
  uint64_t shared = extents[1].raw_offset / kBlockSize * kBlockSize;
  EXPECT_TRUE(ReadMatches(**cache, 0, shared, kBlockSize));
  EXPECT_EQ((*cache)->Usage().extents_ready, 2u);
  EXPECT_EQ(backend_->RequestedBytes(),
            FrameOfChunk(0).compressed_size + FrameOfChunk(1).compressed_size);
  // Crossing a file boundary (end of {3, 4, 5}, gap, start of {6, 7}) and the whole device.
  EXPECT_TRUE(ReadMatches(**cache, 0, extents[5].raw_offset,
                          extents[6].raw_offset + 10 - extents[5].raw_offset));
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
}

TEST_F(CacheReadTest, ReadsPastTheDeviceAreOutOfRange) {
  BuildStandard(Layout::kAligned);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  const uint64_t r = RawSize();
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  std::vector<std::pair<uint64_t, uint64_t>> bad = {{r, 1},   {r - 1, 2}, {0, r + 1},    {r + 1, 0},
                                                    {max, 1}, {max, 0},   {max - 10, 20}};
  for (auto [offset, length] : bad) {
    std::vector<uint8_t> buf(length);
    Status st = (*cache)->ReadRaw(0, offset, buf);
    ASSERT_FALSE(st) << "read [" << offset << ", +" << length << ") past " << r << " succeeded";
    EXPECT_EQ(st.error().code, ErrorCode::kOutOfRange) << st.error().ToString();
  }
  std::vector<uint8_t> one(1);
  Status no_device = (*cache)->ReadRaw(1, 0, one);
  ASSERT_FALSE(no_device);
  EXPECT_EQ(no_device.error().code, ErrorCode::kOutOfRange) << no_device.error().ToString();
  EXPECT_TRUE((*cache)->ReadRaw(0, r, {})) << "an empty read at the end is fine";
  EXPECT_TRUE(ReadMatches(**cache, 0, r - 1, 1));
  EXPECT_EQ(backend_->RequestCount(), 0u) << "rejected reads and holes reach no backend";
}

TEST_F(CacheReadTest, DeviceWithRawSizeZeroHasNoCacheFile) {
  AddBlob(kSizes);
  AddBlob({100, 200});
  Build({{Layout::kAligned, {{{0, 1}}}}, {Layout::kAligned, {}}});
  ASSERT_EQ(image_.tables->blobs[1].raw_size, 0u);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_EQ((*cache)->CacheFiles(), (std::vector<std::string>{RawPath(0), ""}));
  struct stat st {};
  EXPECT_NE(::stat(RawPath(1).c_str(), &st), 0) << "no cache file for an empty device";
  EXPECT_TRUE((*cache)->ReadRaw(1, 0, {})) << "empty read of an empty device";
  std::vector<uint8_t> one(1);
  Status past = (*cache)->ReadRaw(1, 0, one);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code, ErrorCode::kOutOfRange) << past.error().ToString();
  EXPECT_TRUE((*cache)->Fetch(1, 0, 4096)) << "prefetching an empty device is a no-op";
  CacheUsage u = (*cache)->Usage();
  EXPECT_EQ(u.extents_total, 2u) << "only device 0 has extents";
  EXPECT_EQ(u.bytes_total, kSizes[0] + kSizes[1]);
  EXPECT_EQ(backend_->RequestCount(), 0u);
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
}

TEST_F(CacheReadTest, DeviceWithoutExtentsReadsZeros) {
  AddBlob(kSizes);
  Build({{Layout::kAligned, {{{}, 2}}}});
  ASSERT_EQ(image_.tables->blobs[0].raw_size, 2 * kBlockSize);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->RequestCount(), 0u);
  EXPECT_EQ((*cache)->Usage().extents_total, 0u);
  Status st = (*cache)->Flush();
  EXPECT_TRUE(st) << Describe(st);
  cache->reset();
  auto reopened = Open();  // an empty bitmap is valid too
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  EXPECT_TRUE(ReadAllMatches(**reopened, 0));
}

// Extents may place a slice of a chunk, and one chunk at several places: one fetch fills all.
TEST_F(CacheReadTest, SlicesAndRepeatsOfAChunk) {
  AddBlob(kSizes);
  Build({{Layout::kAligned, {{{0, 1, 2, 3}}, {{2}, 1}}}});
  BootstrapTables t = *image_.tables;
  t.extents[1].chunk_offset = 300;  // the middle of chunk 1
  t.extents[1].size = static_cast<uint32_t>(kSizes[1] - 500);
  t.extents[3].chunk_offset = 4096;  // chunk 3 from its second block
  t.extents[3].size = 5000;
  SetTables(t);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[1].raw_offset - 10, 200));
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[3].raw_offset, 5000));
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[2].raw_offset, kSizes[2]));
  EXPECT_EQ((*cache)->Usage().extents_ready, 4u) << "chunk 2 stored at both of its places";
  size_t requests = backend_->RequestCount();
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[4].raw_offset, kSizes[2]));
  EXPECT_EQ(backend_->RequestCount(), requests) << "the second place of chunk 2 was filled too";
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ((*cache)->Usage().bytes_total, kSizes[0] + (kSizes[1] - 500) + 2 * kSizes[2] + 5000);
}

TEST_F(CacheReadTest, SecondReadIsServedFromCache) {
  BuildStandard(Layout::kAligned);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  const ExtentEntry& e = Extents(0)[3];
  EXPECT_TRUE(ReadMatches(**cache, 0, e.raw_offset + 10, 5000));
  ASSERT_EQ(backend_->RequestCount(), 1u);
  EXPECT_EQ(observer_.misses, 1u);
  EXPECT_EQ(observer_.hits, 0u);
  EXPECT_TRUE(ReadMatches(**cache, 0, e.raw_offset + 10, 5000));
  EXPECT_TRUE(ReadMatches(**cache, 0, e.raw_offset, e.size));
  EXPECT_EQ(backend_->RequestCount(), 1u) << "a cached extent is not fetched again";
  EXPECT_EQ(observer_.hits, 2u);
  EXPECT_EQ(observer_.hit_bytes, 5000u + e.size);
  EXPECT_EQ(observer_.misses, 1u);
  EXPECT_EQ(observer_.miss_bytes, 5000u);
}

TEST_F(CacheReadTest, ZstdFramesAreDecompressed) {
  BlobWriterOptions zstd = RawFrames();
  zstd.codec = Codec::kZstd;
  zstd.level = 3;
  BuildStandard(Layout::kEndToEnd, zstd);
  bool compressed = false;
  for (const FrameEntry& f : image_.tables->frames) compressed |= f.codec == Codec::kZstd;
  ASSERT_TRUE(compressed) << "test data did not compress";
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_TRUE(ReadMatches(**cache, 0, 3000, 20000));
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ((*cache)->Usage().extents_ready, kSizes.size());
}

TEST_F(CacheReadTest, Lz4FramesAreDecompressed) {
  BlobWriterOptions lz4 = RawFrames();
  lz4.codec = Codec::kLz4;
  lz4.level = 0;
  BuildStandard(Layout::kAligned, lz4);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
}

TEST_F(CacheReadTest, CacheFilesAndUsage) {
  BuildStandard(Layout::kAligned);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_EQ((*cache)->CacheFiles(), std::vector<std::string>{RawPath(0)});
  struct stat st {};
  ASSERT_EQ(::stat(RawPath(0).c_str(), &st), 0) << "cache file created at open";
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), RawSize()) << "sized like the raw device";
  uint64_t total = 0;
  for (size_t s : kSizes) total += s;
  CacheUsage u = (*cache)->Usage();
  EXPECT_EQ(u.extents_total, kSizes.size());
  EXPECT_EQ(u.bytes_total, total);
  EXPECT_EQ(u.extents_ready, 0u);
  EXPECT_EQ(u.bytes_ready, 0u);
  // Chunk 2 has a frame of its own.
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[2].raw_offset, 1));
  u = (*cache)->Usage();
  EXPECT_EQ(u.extents_ready, 1u);
  EXPECT_EQ(u.bytes_ready, kSizes[2]);
  // Chunks 4 and 5 share a frame: reading one makes both ready.
  ASSERT_EQ(image_.tables->chunks[4].frame, image_.tables->chunks[5].frame);
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[4].raw_offset, 1));
  u = (*cache)->Usage();
  EXPECT_EQ(u.extents_ready, 3u);
  EXPECT_EQ(u.bytes_ready, kSizes[2] + kSizes[4] + kSizes[5]);
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[5].raw_offset, kSizes[5]));
  EXPECT_EQ(backend_->RequestCount(), 2u) << "chunk 5 came with chunk 4's frame";
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  u = (*cache)->Usage();
  EXPECT_EQ(u.extents_ready, u.extents_total);
  EXPECT_EQ(u.bytes_ready, total);
}

TEST_F(CacheReadTest, FetchMakesARangeReadyWithoutReadingIt) {
  BuildStandard(Layout::kAligned);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  const auto extents = Extents(0);
  Status st =
      (*cache)->Fetch(0, extents[1].raw_offset, extents[3].raw_offset + 1 - extents[1].raw_offset);
  ASSERT_TRUE(st) << Describe(st);
  EXPECT_EQ((*cache)->Usage().extents_ready, 3u) << "chunks 1, 2 and 3";
  EXPECT_EQ(observer_.hits + observer_.misses, 0u) << "Fetch is not a read";
  size_t requests = backend_->RequestCount();
  EXPECT_TRUE(ReadMatches(**cache, 0, extents[1].raw_offset,
                          extents[3].raw_offset + 100 - extents[1].raw_offset));
  EXPECT_EQ(backend_->RequestCount(), requests);
  EXPECT_EQ(observer_.hits, 1u);
}

TEST_F(CacheReadTest, ReadRawCachedNeverFetchesAndDropsDamagedBytes) {
  BuildStandard(Layout::kAligned);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  const ExtentEntry& e = Extents(0)[3];
  std::vector<uint8_t> out(e.size);
  Status cold = (*cache)->ReadRawCached(0, e.raw_offset, out);
  ASSERT_FALSE(cold);
  EXPECT_EQ(cold.error().code, ErrorCode::kUnavailable) << Describe(cold);
  EXPECT_EQ(backend_->RequestCount(), 0u);
  EXPECT_EQ(observer_.hits + observer_.misses, 0u);
  ASSERT_TRUE(ReadMatches(**cache, 0, e.raw_offset, e.size));
  size_t requests = backend_->RequestCount();
  ASSERT_TRUE((*cache)->ReadRawCached(0, e.raw_offset, out));
  EXPECT_TRUE(std::equal(out.begin(), out.end(), image_.raw[0].begin() + e.raw_offset));
  // Partly cached ranges are refused whole (extent 4 is not cached).
  std::vector<uint8_t> wider(Extents(0)[4].raw_offset + 1 - e.raw_offset);
  EXPECT_FALSE((*cache)->ReadRawCached(0, e.raw_offset, wider));
  EXPECT_EQ(backend_->RequestCount(), requests);
  ASSERT_TRUE((*cache)->Flush());
  cache->reset();

  // Damaged on disk: a new process's first cached read checks the digest, refuses the bytes and
  // forgets the extent, still without a backend read; a normal read then fetches it again.
  auto raw = ReadFile(RawPath(0));
  ASSERT_TRUE(raw);
  (*raw)[e.raw_offset + 7] ^= 0x01;
  ASSERT_TRUE(WriteFile(RawPath(0), *raw));
  auto reopened = Open({.verify_ahead_bytes = 0});
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  backend_->ClearRequests();
  Status bad = (*reopened)->ReadRawCached(0, e.raw_offset, out);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kUnavailable) << Describe(bad);
  EXPECT_EQ(observer_.corrupt, 1u);
  EXPECT_EQ(backend_->RequestCount(), 0u);
  EXPECT_FALSE((*reopened)->ReadRawCached(0, e.raw_offset, out)) << "the extent is not ready now";
  EXPECT_TRUE(ReadMatches(**reopened, 0, e.raw_offset, e.size));
  EXPECT_GT(backend_->RequestCount(), 0u);
}

}  // namespace
}  // namespace tessera::storage::cache_test
