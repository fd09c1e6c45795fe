// Verify-ahead (storage/src/cache/verify_ahead.cc): after a read of cached data, a background
// thread checks the cached extents past it, so later reads find them verified; damage it finds
// is fetched again by the read that comes to it; it is off without verify_cached or with a
// window of 0, and destroying the cache while it works is clean.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <thread>
#include <vector>

#include "cache_test_fixture.h"

#include "tessera/storage/cache.h"

namespace tessera::storage::cache_test {
namespace {

using std::chrono_literals::operator""ms;

constexpr uint32_t kChunks = 24;

class VerifyAheadTest : public CacheTest {
 protected:
  // One device placing kChunks distinct chunks (one raw frame each) in order, fully cached by a
  // first cache that is then closed: the next cache finds every extent ready, none verified.
  void BuildAndFill(size_t chunk_size = 5000) {
    AddBlob(std::vector<size_t>(kChunks, chunk_size), RawFrames(static_cast<uint32_t>(chunk_size)));
    std::vector<uint32_t> order(kChunks);
    std::iota(order.begin(), order.end(), 0u);
    Build({{Layout::kAligned, {{order}}}});
    {
      auto cache = Open(Options(0));
      ASSERT_TRUE(cache) << cache.error().ToString();
      ASSERT_TRUE(ReadAllMatches(**cache, 0));
    }
    backend_->ClearRequests();
  }
  static CacheOptions Options(uint64_t ahead) {
    CacheOptions o;
    o.verify_ahead_bytes = ahead;
    return o;
  }
  // Reads extent e of device 0 whole.
  ::testing::AssertionResult ReadExtent(BlobCache& cache, uint32_t e) {
    return ReadMatches(cache, 0, Extents(0)[e].raw_offset, Extents(0)[e].size);
  }
  // Waits up to 10 s for `counter` to reach `want`, then a little more for any excess.
  static uint64_t Settle(const std::atomic<uint64_t>& counter, uint64_t want) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (counter < want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    std::this_thread::sleep_for(50ms);
    return counter;
  }
};

TEST_F(VerifyAheadTest, ASequentialReadGetsTheExtentsAheadVerified) {
  BuildAndFill();
  auto cache = Open(Options(1u << 20));
  ASSERT_TRUE(cache) << cache.error().ToString();
  ASSERT_TRUE(ReadExtent(**cache, 0));
  // Everything after extent 0 lies within the window: checked without the caller reading it.
  EXPECT_EQ(Settle(observer_.verified_ahead, kChunks - 1), kChunks - 1);
  EXPECT_EQ(observer_.corrupt, 0u);
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->RequestCount(), 0u);
}

TEST_F(VerifyAheadTest, OnlyTheWindowAfterTheReadIsVerified) {
  BuildAndFill();
  const auto ext = Extents(0);
  // A read of extent 2 wants extents 3 to 6 (starting before its end + the window).
  uint64_t window = ext[6].raw_offset + 1 - (ext[2].raw_offset + ext[2].size);
  auto cache = Open(Options(window));
  ASSERT_TRUE(cache) << cache.error().ToString();
  ASSERT_TRUE(ReadExtent(**cache, 2));
  EXPECT_EQ(Settle(observer_.verified_ahead, 4), 4u);
  // Going back restarts the window after the read: extents 1 (verified ahead) and 2 (read).
  ASSERT_TRUE(ReadExtent(**cache, 0));
  EXPECT_EQ(Settle(observer_.verified_ahead, 5), 5u);
  // Further on, past the verifier: extents 9 to 12 are next.
  ASSERT_TRUE(ReadExtent(**cache, 8));
  EXPECT_EQ(Settle(observer_.verified_ahead, 9), 9u);
}

TEST_F(VerifyAheadTest, DamageAheadIsFoundAndTheReadFetchesItAgain) {
  BuildAndFill();
  const ExtentEntry& bad = Extents(0)[5];
  ASSERT_TRUE(FlipFileByte(RawPath(0), bad.raw_offset + 10));
  auto cache = Open(Options(1u << 20));
  ASSERT_TRUE(cache) << cache.error().ToString();
  ASSERT_TRUE(ReadExtent(**cache, 0));
  // Extents are checked in order, so extent 5 is done once the ones after it are.
  EXPECT_EQ(Settle(observer_.verified_ahead, kChunks - 2), kChunks - 2);
  EXPECT_EQ(observer_.corrupt, 1u);
  EXPECT_EQ((*cache)->Usage().extents_ready, kChunks - 1) << "the damaged extent is not ready";
  EXPECT_EQ(backend_->RequestCount(), 0u) << "the verifier itself fetches nothing";
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  ASSERT_EQ(backend_->RequestCount(), 1u);
  EXPECT_EQ(backend_->Requests()[0].offset, FrameOfChunk(bad.chunk).compressed_offset);
  EXPECT_EQ(observer_.corrupt, 1u);
  EXPECT_TRUE(NoWrongBytesCached(0));
}

TEST_F(VerifyAheadTest, OffWithoutVerifyCachedOrWithAWindowOfZero) {
  BuildAndFill();
  for (bool verify : {false, true}) {
    CacheOptions o = Options(verify ? 0 : 1u << 20);
    o.verify_cached = verify;
    auto cache = Open(o);
    ASSERT_TRUE(cache) << cache.error().ToString();
    ASSERT_TRUE(ReadExtent(**cache, 0));
    EXPECT_EQ(Settle(observer_.verified_ahead, 0), 0u) << "verify_cached " << verify;
  }
}

// Under ASan/TSan: no use of the cache after it is gone, no work left behind, and nothing the
// verifier was doing when stopped costs a fetch later.
TEST_F(VerifyAheadTest, DestroyingTheCacheWhileItVerifiesIsClean) {
  BuildAndFill(64u << 10);
  for (int i = 0; i < 20; ++i) {
    auto cache = Open(Options(64u << 20));
    ASSERT_TRUE(cache) << cache.error().ToString();
    ASSERT_TRUE(ReadExtent(**cache, static_cast<uint32_t>(i) % 4));
    if (i % 2 == 1) std::this_thread::sleep_for(std::chrono::microseconds(200 * i));
  }
  auto cache = Open(Options(0));
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->RequestCount(), 0u);
  EXPECT_EQ(observer_.corrupt, 0u);
}

}  // namespace
}  // namespace tessera::storage::cache_test
