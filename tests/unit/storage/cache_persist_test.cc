// BlobCache across restarts: ready extents persist in <dir>/<id>.bitmap and are served without
// the backend; a damaged or foreign bitmap, a damaged cache file or damaged cached bytes are
// detected, never trusted, and the data is fetched again.
#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cache_test_fixture.h"

#include "tessera/storage/cache.h"

namespace tessera::storage::cache_test {
namespace {

// Chunks 0-3 get a frame each; 4 and 5 share one.
const std::vector<size_t> kSizes = {5000, 9000, 4096, 12000, 700, 1500};

class CachePersistTest : public CacheTest {
 protected:
  void BuildSample(std::vector<uint32_t> order = {0, 1, 2, 3, 4, 5}) {
    if (blobs_.empty()) AddBlob(kSizes);
    Build({{Layout::kAligned, {{std::move(order)}}}});
  }
  // Opens a cache, reads the whole device, and closes it (the destructor flushes).
  void FillAndClose() {
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    ASSERT_TRUE(ReadAllMatches(**cache, 0));
    Status st = (*cache)->Flush();
    ASSERT_TRUE(st) << Describe(st);
  }
  // The cache was rebuilt: nothing ready and an empty (all-zero) cache file of the right size.
  void ExpectRebuilt(BlobCache& cache) {
    EXPECT_EQ(cache.Usage().extents_ready, 0u);
    auto file = ReadFile(RawPath(0));
    ASSERT_TRUE(file) << file.error().ToString();
    EXPECT_EQ(file->size(), image_.raw[0].size());
    EXPECT_TRUE(AllZero(*file)) << "old cache data kept after the bitmap was discarded";
  }
};

TEST_F(CachePersistTest, ReadyExtentsAreServedAfterReopenWithoutBackend) {
  BuildSample();
  const auto extents = Extents(0);
  uint64_t part = extents[3].raw_offset;  // chunks 0, 1, 2
  CacheUsage before;
  {
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    EXPECT_TRUE(ReadMatches(**cache, 0, 0, part));
    Status st = (*cache)->Flush();
    ASSERT_TRUE(st) << Describe(st);
    before = (*cache)->Usage();
    EXPECT_EQ(before.extents_ready, 3u);
  }
  backend_->ClearRequests();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  CacheUsage after = (*cache)->Usage();
  EXPECT_EQ(after.extents_total, before.extents_total);
  EXPECT_EQ(after.extents_ready, before.extents_ready);
  EXPECT_EQ(after.bytes_total, before.bytes_total);
  EXPECT_EQ(after.bytes_ready, before.bytes_ready);
  uint64_t hits = observer_.hits;
  EXPECT_TRUE(ReadMatches(**cache, 0, 0, part));
  EXPECT_EQ(backend_->RequestCount(), 0u) << "cached data needs no backend after a restart";
  EXPECT_EQ(observer_.hits, hits + 1);
  // The rest is fetched: exactly the frames of chunks 3, 4 and 5.
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->RequestedBytes(),
            FrameOfChunk(3).compressed_size + FrameOfChunk(4).compressed_size);
}

TEST_F(CachePersistTest, DestroyingTheCacheFlushesIt) {
  BuildSample();
  {
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    EXPECT_TRUE(ReadAllMatches(**cache, 0));
  }
  backend_->ClearRequests();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_EQ((*cache)->Usage().extents_ready, kSizes.size());
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->RequestCount(), 0u);
}

TEST_F(CachePersistTest, AnyDamageToTheBitmapDiscardsIt) {
  BuildSample();
  FillAndClose();
  auto good = ReadFile(BitmapPath(0));
  ASSERT_TRUE(good) << "no bitmap after Flush: " << good.error().ToString();
  std::vector<std::pair<std::string, std::vector<uint8_t>>> damaged;
  for (size_t i = 0; i < good->size(); ++i) {
    auto flip = *good;
    flip[i] ^= 0x10;
    damaged.emplace_back("flipped byte " + std::to_string(i), std::move(flip));
  }
  damaged.emplace_back("truncated by one", std::vector<uint8_t>(good->begin(), good->end() - 1));
  damaged.emplace_back("cut in half",
                       std::vector<uint8_t>(good->begin(), good->begin() + good->size() / 2));
  damaged.emplace_back("empty", std::vector<uint8_t>{});
  auto longer = *good;
  longer.push_back(0);
  damaged.emplace_back("one byte longer", std::move(longer));
  for (const auto& [name, bytes] : damaged) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(WriteFile(BitmapPath(0), bytes));
    backend_->ClearRequests();
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    ExpectRebuilt(**cache);
    EXPECT_TRUE(ReadAllMatches(**cache, 0));
    EXPECT_GT(backend_->RequestCount(), 0u) << "data fetched again";
    EXPECT_EQ((*cache)->Usage().extents_ready, kSizes.size());
  }
  // The last cache rewrote a good bitmap on close.
  auto cache = Open();
  ASSERT_TRUE(cache);
  EXPECT_EQ((*cache)->Usage().extents_ready, kSizes.size());
}

TEST_F(CachePersistTest, BitmapOfOtherTablesIsDiscarded) {
  BuildSample({0, 1, 2, 3, 4, 5});
  FillAndClose();
  // Same blob, same raw size, chunks placed elsewhere: trusting the old bits would serve chunk 1
  // where chunk 0 now belongs.
  BuildSample({1, 0, 2, 3, 5, 4});
  ASSERT_NE(image_.raw[0], ReadFile(RawPath(0)).value_or({})) << "layouts should differ";
  backend_->ClearRequests();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  ExpectRebuilt(**cache);
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_GT(backend_->RequestCount(), 0u);
}

TEST_F(CachePersistTest, TruncatedOrMissingCacheFileIsRebuilt) {
  BuildSample();
  FillAndClose();
  ASSERT_EQ(::truncate(RawPath(0).c_str(), static_cast<off_t>(image_.raw[0].size() / 2)), 0);
  {
    backend_->ClearRequests();
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    ExpectRebuilt(**cache);
    EXPECT_TRUE(ReadAllMatches(**cache, 0));
    EXPECT_GT(backend_->RequestCount(), 0u);
  }
  ASSERT_EQ(::unlink(RawPath(0).c_str()), 0);
  backend_->ClearRequests();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  ExpectRebuilt(**cache);
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_GT(backend_->RequestCount(), 0u);
}

TEST_F(CachePersistTest, DamagedCachedBytesAreDetectedAndFetchedAgain) {
  BuildSample();
  FillAndClose();
  for (uint32_t e = 0; e < kSizes.size(); ++e) {
    SCOPED_TRACE("extent " + std::to_string(e));
    const ExtentEntry& ext = Extents(0)[e];
    ASSERT_TRUE(FlipFileByte(RawPath(0), ext.raw_offset + ext.size - 7));
    backend_->ClearRequests();
    uint64_t corrupt = observer_.corrupt;
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    EXPECT_EQ((*cache)->Usage().extents_ready, kSizes.size()) << "bits are checked lazily";
    EXPECT_TRUE(ReadMatches(**cache, 0, ext.raw_offset, ext.size));
    EXPECT_EQ(observer_.corrupt, corrupt + 1);
    ASSERT_EQ(backend_->RequestCount(), 1u);
    EXPECT_EQ(backend_->Requests()[0].offset, FrameOfChunk(ext.chunk).compressed_offset);
    EXPECT_EQ((*cache)->Usage().extents_ready, kSizes.size());
    EXPECT_TRUE(NoWrongBytesCached(0));
  }
  // Repaired for good: a restart serves everything from the cache.
  backend_->ClearRequests();
  auto cache = Open();
  ASSERT_TRUE(cache);
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->RequestCount(), 0u);
}

// One read checks the extents it holds whole with the bytes it read (no read of their own) and
// those it holds in part with a read of the whole extent; damage in either kind is found, the
// frame fetched again and the read answered with the right bytes.
TEST_F(CachePersistTest, DamageInsideAndAtTheEdgeOfOneReadIsFetchedAgain) {
  BuildSample();
  FillAndClose();
  const auto ext = Extents(0);
  ASSERT_TRUE(FlipFileByte(RawPath(0), ext[2].raw_offset + 1));                // held whole
  ASSERT_TRUE(FlipFileByte(RawPath(0), ext[3].raw_offset + ext[3].size - 1));  // held in part
  backend_->ClearRequests();
  uint64_t corrupt = observer_.corrupt;
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  uint64_t begin = ext[1].raw_offset;
  uint64_t end = ext[3].raw_offset + 100;
  EXPECT_TRUE(ReadMatches(**cache, 0, begin, end - begin));
  EXPECT_EQ(observer_.corrupt, corrupt + 2);
  EXPECT_EQ(backend_->RequestCount(), 2u);
  EXPECT_TRUE(NoWrongBytesCached(0));
  // Checked once per process: reading again costs neither a fetch nor a check failure.
  EXPECT_TRUE(ReadMatches(**cache, 0, begin, end - begin));
  EXPECT_EQ(observer_.corrupt, corrupt + 2);
  EXPECT_EQ(backend_->RequestCount(), 2u);
}

// verify_cached = false trades the check for speed: the cache file is trusted as it is.
TEST_F(CachePersistTest, WithoutVerifyCachedTheCacheFileIsTrusted) {
  BuildSample();
  FillAndClose();
  const ExtentEntry& ext = Extents(0)[1];
  ASSERT_TRUE(FlipFileByte(RawPath(0), ext.raw_offset, 0x80));
  backend_->ClearRequests();
  CacheOptions options;
  options.verify_cached = false;
  auto cache = Open(options);
  ASSERT_TRUE(cache) << cache.error().ToString();
  std::vector<uint8_t> got(1);
  ASSERT_TRUE((*cache)->ReadRaw(0, ext.raw_offset, got));
  EXPECT_EQ(got[0], image_.raw[0][ext.raw_offset] ^ 0x80);
  EXPECT_EQ(backend_->RequestCount(), 0u);
}

}  // namespace
}  // namespace tessera::storage::cache_test
