// BlobCache::EvictCold: second-chance eviction punches holes under cold extents, which are
// fetched again when read; readers running alongside eviction never see a punched hole.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "cache_test_fixture.h"

#include "tessera/storage/cache.h"

namespace tessera::storage::cache_test {
namespace {

const std::vector<size_t> kSizes = {5000, 9000, 4096, 12000, 700, 1500};
constexpr uint64_t kAll = std::numeric_limits<uint64_t>::max();

class CacheEvictTest : public CacheTest {
 protected:
  void BuildSample(Layout layout) {
    AddBlob(kSizes);
    Build({{layout, {{{0, 1, 2, 3, 4, 5}}}}});
  }
  bool ExtentIsHole(uint32_t e) {
    auto file = ReadFile(RawPath(0));
    const ExtentEntry& ext = Extents(0)[e];
    return file && AllZero(std::span<const uint8_t>(*file).subspan(ext.raw_offset, ext.size));
  }
};

TEST_F(CacheEvictTest, ColdExtentsAreEvictedAndFetchedAgain) {
  BuildSample(Layout::kAligned);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ((*cache)->EvictCold(1), 0u) << "everything was read since the last call";
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[0].raw_offset, 1));
  // Extent 0 was read again (second chance); extent 1 is the first cold one.
  EXPECT_EQ((*cache)->EvictCold(1), AlignUp(kSizes[1]));
  EXPECT_EQ(observer_.evicted_bytes, AlignUp(kSizes[1]));
  CacheUsage u = (*cache)->Usage();
  EXPECT_EQ(u.extents_ready, kSizes.size() - 1);
  EXPECT_EQ(u.bytes_ready, u.bytes_total - kSizes[1]);
  EXPECT_TRUE(ExtentIsHole(1)) << "evicted bytes still in the cache file";
  EXPECT_FALSE(ExtentIsHole(0));
  backend_->ClearRequests();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  ASSERT_EQ(backend_->RequestCount(), 1u);
  EXPECT_EQ(backend_->Requests()[0].offset, FrameOfChunk(1).compressed_offset);
  // Evict everything (two calls: the full read gave every extent a second chance).
  EXPECT_EQ((*cache)->EvictCold(kAll), 0u);
  uint64_t blocks = 0;
  for (size_t s : kSizes) blocks += AlignUp(s);
  EXPECT_EQ((*cache)->EvictCold(kAll), blocks);
  EXPECT_EQ((*cache)->Usage().extents_ready, 0u);
  auto file = ReadFile(RawPath(0));
  ASSERT_TRUE(file);
  EXPECT_TRUE(AllZero(*file));
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
}

TEST_F(CacheEvictTest, EvictionIsPersisted) {
  BuildSample(Layout::kAligned);
  {
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    EXPECT_TRUE(ReadAllMatches(**cache, 0));
    ASSERT_TRUE((*cache)->Flush());
    EXPECT_EQ((*cache)->EvictCold(kAll), 0u);
    EXPECT_GT((*cache)->EvictCold(1), 0u);
  }
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_EQ((*cache)->Usage().extents_ready, kSizes.size() - 1) << "evicted extent came back";
  backend_->ClearRequests();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->RequestCount(), 1u);
}

// With extents end to end, punching an extent's blocks also takes its neighbours' bytes there.
TEST_F(CacheEvictTest, NeighboursSharingABlockAreEvictedToo) {
  BuildSample(Layout::kEndToEnd);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ((*cache)->EvictCold(1), 0u);
  EXPECT_EQ((*cache)->EvictCold(1), AlignUp(kSizes[0])) << "extent 0's two blocks";
  EXPECT_EQ((*cache)->Usage().extents_ready, kSizes.size() - 2) << "extents 0 and 1";
  backend_->ClearRequests();
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[1].raw_offset, kSizes[1]));
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->RequestedBytes(),
            FrameOfChunk(0).compressed_size + FrameOfChunk(1).compressed_size);
}

TEST_F(CacheEvictTest, ReadersRacingEvictionGetTheRightBytes) {
  BuildSample(Layout::kEndToEnd);
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  const uint64_t size = image_.raw[0].size();
  // Readers run until eviction has freed something a number of times (bounded either way: a
  // loaded machine may let readers re-touch every extent between two evictions for a while, so
  // the bound is time, not a read count).
  constexpr int kReaders = 3;
  constexpr int kMinReads = 30;
  constexpr int kEvictions = 5;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::atomic<int> running{kReaders};
  std::atomic<int> evictions{0};
  std::vector<int> failures(kReaders, 0);
  std::vector<std::thread> threads;
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      uint64_t x = 12345 + r;
      for (int i = 0;
           i < kMinReads || (evictions < kEvictions && std::chrono::steady_clock::now() < deadline);
           ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t offset = (x >> 20) % size;
        uint64_t length = 1 + (x >> 40) % std::min<uint64_t>(size - offset, 3 * kBlockSize);
        if (!ReadMatches(**cache, 0, offset, length)) ++failures[r];
      }
      --running;
    });
  }
  while (running > 0) {
    if ((*cache)->EvictCold(kAll) > 0) ++evictions;
    std::this_thread::yield();
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < kReaders; ++r) EXPECT_EQ(failures[r], 0) << "reader " << r;
  EXPECT_GT(evictions, 0) << "eviction never freed anything during the reads";
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
}

}  // namespace
}  // namespace tessera::storage::cache_test
