// BlobCache fetching: adjacent missing frames merge into one backend read up to merge_limit, and
// concurrent misses on a frame share one backend request.
#include <chrono>
#include <cstdint>
#include <functional>
#include <latch>
#include <thread>
#include <vector>

#include "cache_test_fixture.h"

#include "tessera/storage/cache.h"

namespace tessera::storage::cache_test {
namespace {

using std::chrono_literals::operator""ms;

constexpr size_t kChunk = 5000;  // with RawFrames(): one 5000-byte frame per chunk
constexpr uint32_t kChunks = 8;

class CacheFetchTest : public CacheTest {
 protected:
  // Blob 0: eight chunks, frame i at blob offset 5000 * i; the device places them in `order`.
  void BuildEight(std::vector<uint32_t> order = {0, 1, 2, 3, 4, 5, 6, 7}) {
    AddBlob(std::vector<size_t>(kChunks, kChunk));
    Build({{Layout::kAligned, {{std::move(order)}}}});
    ASSERT_EQ(image_.tables->frames.size(), kChunks);
    for (uint32_t f = 0; f < kChunks; ++f) {
      ASSERT_EQ(image_.tables->frames[f].compressed_offset, f * kChunk) << "frame " << f;
    }
  }
  BackendRequest Req(uint64_t offset, uint64_t size) const { return {Hex(0), offset, size}; }

  // For each frame, how many backend requests covered its bytes.
  std::vector<int> RequestsPerFrame() const {
    std::vector<int> n(kChunks, 0);
    for (const BackendRequest& r : backend_->Requests()) {
      for (uint32_t f = 0; f < kChunks; ++f) {
        n[f] += r.offset < (f + 1) * kChunk && r.offset + r.size > f * kChunk;
      }
    }
    return n;
  }

  // Runs fn(i) on n threads released together.
  static void RunTogether(int n, const std::function<void(int)>& fn) {
    std::latch start(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        fn(i);
      });
    }
    for (auto& t : threads) t.join();
  }
};

TEST_F(CacheFetchTest, AdjacentMissingFramesMergeIntoOneRead) {
  BuildEight();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->Requests(), std::vector<BackendRequest>{Req(0, kChunks * kChunk)});
}

TEST_F(CacheFetchTest, MergeLimitSplitsRuns) {
  BuildEight();
  struct Case {
    uint64_t limit;
    std::vector<BackendRequest> want;
  };
  std::vector<Case> cases = {
      {2 * kChunk, {Req(0, 10000), Req(10000, 10000), Req(20000, 10000), Req(30000, 10000)}},
      {3 * kChunk + 1, {Req(0, 15000), Req(15000, 15000), Req(30000, 10000)}},
      {2 * kChunk - 1, {}},  // each frame alone
      {0, {}},               // a frame over the limit is still fetched, alone
  };
  for (uint32_t f = 0; f < kChunks; ++f) cases[2].want.push_back(Req(f * kChunk, kChunk));
  cases[3].want = cases[2].want;
  for (const Case& c : cases) {
    SCOPED_TRACE("merge_limit " + std::to_string(c.limit));
    ResetCacheDir();
    backend_->ClearRequests();
    CacheOptions options;
    options.merge_limit = c.limit;
    auto cache = Open(options);
    ASSERT_TRUE(cache) << cache.error().ToString();
    EXPECT_TRUE(ReadAllMatches(**cache, 0));
    EXPECT_EQ(backend_->Requests(), c.want);
  }
}

TEST_F(CacheFetchTest, CachedFramesSplitARunOfMissingOnes) {
  BuildEight();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[2].raw_offset, 1));
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[5].raw_offset, 1));
  backend_->ClearRequests();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->Requests(),
            (std::vector<BackendRequest>{Req(0, 10000), Req(15000, 10000), Req(30000, 10000)}))
      << "frames 2 and 5 were cached, so the rest is three non-adjacent runs";
}

TEST_F(CacheFetchTest, FramesAreMergedInBlobOrderNotDeviceOrder) {
  BuildEight({6, 7, 4, 5, 0, 1, 2, 3});
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  // Device order 4 5 0: blob frames 4, 5 are adjacent, 0 is not.
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[2].raw_offset,
                          Extents(0)[4].raw_offset + 1 - Extents(0)[2].raw_offset));
  EXPECT_EQ(backend_->Requests(), (std::vector<BackendRequest>{Req(0, 5000), Req(20000, 10000)}));
  backend_->ClearRequests();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  EXPECT_EQ(backend_->Requests(),
            (std::vector<BackendRequest>{Req(5000, 15000), Req(30000, 10000)}));
}

TEST_F(CacheFetchTest, ConcurrentColdReadsOfOneRangeShareOneRequest) {
  BuildEight();
  CacheOptions options;
  options.merge_limit = 3 * kChunk;  // three requests: 15000, 15000, 10000 bytes
  auto cache = Open(options);
  ASSERT_TRUE(cache) << cache.error().ToString();
  backend_->SetDelay(40ms);  // all readers miss while the first request is in flight
  constexpr int kThreads = 8;
  std::vector<::testing::AssertionResult> results(kThreads, ::testing::AssertionSuccess());
  RunTogether(kThreads, [&](int i) { results[i] = ReadAllMatches(**cache, 0); });
  for (int i = 0; i < kThreads; ++i) EXPECT_TRUE(results[i]) << "reader " << i;
  // Normally exactly {0, 15000}, {15000, 15000}, {30000, 10000}; a reader that starts late may
  // split a group differently, but no frame is ever requested twice.
  EXPECT_EQ(RequestsPerFrame(), std::vector<int>(kChunks, 1))
      << "one backend request per frame for all readers";
  EXPECT_EQ(backend_->RequestedBytes(), kChunks * kChunk);
  EXPECT_EQ(observer_.extents_ready, kChunks) << "each extent stored once";
  EXPECT_EQ(observer_.misses + observer_.hits, static_cast<uint64_t>(kThreads));
}

TEST_F(CacheFetchTest, ConcurrentOverlappingReadsFetchEachFrameOnce) {
  BuildEight();
  CacheOptions options;
  options.merge_limit = 0;  // a request per frame, so frames can be counted
  auto cache = Open(options);
  ASSERT_TRUE(cache) << cache.error().ToString();
  backend_->SetDelay(20ms);
  constexpr int kThreads = 8;
  std::vector<::testing::AssertionResult> results(kThreads, ::testing::AssertionSuccess());
  RunTogether(kThreads, [&](int i) {
    // Even readers read everything; odd ones start at different extents.
    uint32_t first = i % 2 == 0 ? 0 : static_cast<uint32_t>(i) % 5;
    uint32_t last = i % 2 == 0 ? kChunks - 1 : first + 3;
    uint64_t begin = Extents(0)[first].raw_offset;
    uint64_t end = Extents(0)[last].raw_offset + kChunk;
    results[i] = ReadMatches(**cache, 0, begin, end - begin);
  });
  for (int i = 0; i < kThreads; ++i) EXPECT_TRUE(results[i]) << "reader " << i;
  EXPECT_EQ(RequestsPerFrame(), std::vector<int>(kChunks, 1)) << "a frame was fetched twice";
  EXPECT_EQ(backend_->RequestCount(), kChunks);
}

TEST_F(CacheFetchTest, ConcurrentReadersAllGetTheBackendErrorThenRecover) {
  BuildEight();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  backend_->SetDelay(40ms);
  backend_->SetFault(Fault::kEio);
  constexpr int kThreads = 6;
  std::vector<Status> results(kThreads);
  RunTogether(kThreads, [&](int i) {
    std::vector<uint8_t> buf(image_.raw[0].size());
    results[i] = (*cache)->ReadRaw(0, 0, buf);
  });
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_FALSE(results[i]) << "reader " << i << " got data from a failing backend";
    EXPECT_EQ(results[i].error().code, ErrorCode::kIo) << results[i].error().ToString();
  }
  EXPECT_EQ(backend_->RequestCount(), 1u) << "waiters share the failed request";
  EXPECT_EQ((*cache)->Usage().extents_ready, 0u);
  backend_->Heal();
  backend_->SetDelay(0ms);
  std::vector<::testing::AssertionResult> ok(kThreads, ::testing::AssertionSuccess());
  RunTogether(kThreads, [&](int i) { ok[i] = ReadAllMatches(**cache, 0); });
  for (int i = 0; i < kThreads; ++i) EXPECT_TRUE(ok[i]) << "reader " << i << " after healing";
}

// Device 1 places a chunk stored in blob 0 (deduplicated against the lower layer); both devices
// missing it at once must both end up with it.
TEST_F(CacheFetchTest, ChunkOfAnotherBlobMissedOnTwoDevicesAtOnce) {
  AddBlob(std::vector<size_t>(kChunks, kChunk));
  AddBlob({3000});  // global chunk 8
  Build({{Layout::kAligned, {{{0, 1, 2, 3}}}}, {Layout::kAligned, {{{8, 2}}}}});
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  backend_->SetDelay(40ms);
  std::vector<::testing::AssertionResult> results(4, ::testing::AssertionSuccess());
  RunTogether(4, [&](int i) { results[i] = ReadAllMatches(**cache, i % 2); });
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(results[i]) << "reader " << i << " of device " << i % 2;
  EXPECT_EQ((*cache)->Usage().extents_ready, 6u) << "both devices hold everything they place";
  EXPECT_EQ(observer_.extents_ready, 6u) << "each extent stored once";
}

}  // namespace
}  // namespace tessera::storage::cache_test
