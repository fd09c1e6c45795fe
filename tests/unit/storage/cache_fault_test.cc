// BlobCache under backend faults: wrong bytes (a flipped byte, garbage, a half-filled buffer)
// and errors fail the read, are never cached or marked ready, and a retry works once healed.
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "cache_test_fixture.h"

#include "tessera/storage/cache.h"

namespace tessera::storage::cache_test {
namespace {

// Chunk 3 and chunk 4 get a frame each; chunks 0, 1, 2 are packed into the last frame.
const std::vector<size_t> kSizes = {1000, 1200, 800, 6000, 5000};

class CacheFaultTest : public CacheTest {
 protected:
  void BuildSample(const BlobWriterOptions& options = RawFrames()) {
    AddBlob(kSizes, options);
    Build({{Layout::kAligned, {{{0, 1, 2}}, {{3, 4}}}}});
    const auto& chunks = image_.tables->chunks;
    ASSERT_TRUE(chunks[0].frame == chunks[1].frame && chunks[1].frame == chunks[2].frame)
        << "chunks 0-2 should share a frame";
  }
  // Blob-file offset of byte `at` of chunk `c` (raw frames only).
  uint64_t BlobOffsetOf(uint32_t c, uint32_t at) const {
    return FrameOfChunk(c).compressed_offset + image_.tables->chunks[c].frame_offset + at;
  }
  Status ReadExtent(BlobCache& cache, uint32_t e) {
    const ExtentEntry& ext = Extents(0)[e];
    std::vector<uint8_t> buf(ext.size);
    return cache.ReadRaw(0, ext.raw_offset, buf);
  }
  Status ReadAll(BlobCache& cache) {
    std::vector<uint8_t> buf(image_.raw[0].size());
    return cache.ReadRaw(0, 0, buf);
  }
};

TEST_F(CacheFaultTest, FlippedByteFailsWithCorruptAndGoodNeighboursAreKept) {
  BuildSample();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  backend_->FlipByte(Hex(0), BlobOffsetOf(1, 100));
  Status st = ReadExtent(**cache, 1);
  ASSERT_FALSE(st) << "a damaged chunk was served";
  EXPECT_EQ(st.error().code, ErrorCode::kCorrupt) << st.error().ToString();
  std::string frame = "frame " + std::to_string(image_.tables->chunks[1].frame);
  EXPECT_NE(st.error().context.find(Hex(0)), std::string::npos) << st.error().ToString();
  EXPECT_NE(st.error().context.find(frame), std::string::npos) << st.error().ToString();
  EXPECT_EQ(observer_.corrupt, 1u);
  // Chunks 0 and 2 of the same frame verified: they are stored and served without the backend.
  CacheUsage u = (*cache)->Usage();
  EXPECT_EQ(u.extents_ready, 2u);
  EXPECT_EQ(u.bytes_ready, kSizes[0] + kSizes[2]);
  EXPECT_TRUE(NoWrongBytesCached(0));
  size_t requests = backend_->RequestCount();
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[0].raw_offset, kSizes[0]));
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[2].raw_offset, kSizes[2]));
  EXPECT_EQ(backend_->RequestCount(), requests);
  // Still damaged: still an error, whatever range covers it.
  Status again = ReadAll(**cache);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kCorrupt) << again.error().ToString();
  EXPECT_EQ((*cache)->Usage().extents_ready, 4u) << "chunks 3 and 4 were fine";
  EXPECT_TRUE(NoWrongBytesCached(0));
  // Healed: the chunk is fetched again and served.
  backend_->Heal();
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[1].raw_offset, kSizes[1]));
  u = (*cache)->Usage();
  EXPECT_EQ(u.extents_ready, u.extents_total);
  EXPECT_EQ(u.bytes_ready, u.bytes_total);
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
}

TEST_F(CacheFaultTest, BadFrameInAMergedReadDoesNotSpoilTheOthers) {
  BuildSample();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  backend_->FlipByte(Hex(0), BlobOffsetOf(3, 0));
  Status st = ReadAll(**cache);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kCorrupt) << st.error().ToString();
  EXPECT_EQ(backend_->RequestCount(), 1u) << "one merged read";
  EXPECT_EQ((*cache)->Usage().extents_ready, 4u) << "all but chunk 3";
  EXPECT_TRUE(NoWrongBytesCached(0));
  backend_->Heal();
  backend_->ClearRequests();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
  ASSERT_EQ(backend_->RequestCount(), 1u);
  EXPECT_EQ(backend_->Requests()[0].offset, FrameOfChunk(3).compressed_offset)
      << "only chunk 3's frame is fetched again";
}

TEST_F(CacheFaultTest, DamagedCompressedFrameIsNeverCached) {
  BlobWriterOptions zstd = RawFrames();
  zstd.codec = Codec::kZstd;
  zstd.level = 3;
  BuildSample(zstd);
  const FrameEntry& f = FrameOfChunk(1);
  ASSERT_EQ(f.codec, Codec::kZstd) << "test data did not compress";
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  backend_->FlipByte(Hex(0), f.compressed_offset + f.compressed_size / 2);
  // Depending on the byte, the decompressor or a chunk digest catches it.
  const ExtentEntry& first = Extents(0)[0];
  std::vector<uint8_t> buf(Extents(0)[2].raw_offset + kSizes[2] - first.raw_offset);
  Status st = (*cache)->ReadRaw(0, first.raw_offset, buf);
  ASSERT_FALSE(st) << "a damaged frame was served";
  EXPECT_EQ(st.error().code, ErrorCode::kCorrupt) << st.error().ToString();
  std::string frame = "frame " + std::to_string(image_.tables->chunks[1].frame);
  EXPECT_NE(st.error().context.find(Hex(0)), std::string::npos) << st.error().ToString();
  EXPECT_NE(st.error().context.find(frame), std::string::npos) << st.error().ToString();
  EXPECT_GE(observer_.corrupt, 1u);
  EXPECT_LT((*cache)->Usage().extents_ready, 3u);
  EXPECT_TRUE(NoWrongBytesCached(0));
  backend_->Heal();
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
}

TEST_F(CacheFaultTest, BackendErrorFailsTheReadAndARetryWorks) {
  BuildSample();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  backend_->SetFault(Fault::kEio);
  Status st = ReadExtent(**cache, 3);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kIo) << st.error().ToString();
  EXPECT_EQ(st.error().sys_errno, EIO) << st.error().ToString();
  EXPECT_EQ(ErrorCodeToErrno(st.error().code, st.error().sys_errno), EIO);
  EXPECT_EQ(observer_.backend_failed, 1u);
  EXPECT_EQ(observer_.backend_ok, 0u);
  EXPECT_EQ(observer_.corrupt, 0u) << "an I/O error is not corruption";
  EXPECT_EQ((*cache)->Usage().extents_ready, 0u);
  EXPECT_TRUE(NoWrongBytesCached(0));
  // Errors are not sticky.
  backend_->Heal();
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[3].raw_offset, kSizes[3]));
  EXPECT_EQ(observer_.backend_ok, 1u);
  EXPECT_EQ(backend_->RequestCount(), 2u);
  EXPECT_TRUE(ReadAllMatches(**cache, 0));
}

TEST_F(CacheFaultTest, ShortAndGarbledResponsesAreRejected) {
  BuildSample();
  struct Case {
    Fault fault;
    ErrorCode code;
    const char* name;
  };
  for (Case c : {Case{Fault::kShortRead, ErrorCode::kOutOfRange, "short read"},
                 Case{Fault::kShortFill, ErrorCode::kCorrupt, "half-filled buffer"},
                 Case{Fault::kGarble, ErrorCode::kCorrupt, "garbage"}}) {
    SCOPED_TRACE(c.name);
    ResetCacheDir();
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    backend_->SetFault(c.fault);
    Status st = ReadAll(**cache);
    ASSERT_FALSE(st) << "bad backend data was served";
    EXPECT_EQ(st.error().code, c.code) << st.error().ToString();
    EXPECT_LT((*cache)->Usage().extents_ready, kSizes.size());
    EXPECT_TRUE(NoWrongBytesCached(0));
    backend_->Heal();
    EXPECT_TRUE(ReadAllMatches(**cache, 0));
    EXPECT_TRUE(NoWrongBytesCached(0));
  }
}

TEST_F(CacheFaultTest, BadChunkIsNotPersistedAsReady) {
  BuildSample();
  {
    auto cache = Open();
    ASSERT_TRUE(cache) << cache.error().ToString();
    backend_->FlipByte(Hex(0), BlobOffsetOf(0, 0));
    EXPECT_FALSE(ReadExtent(**cache, 0));
    Status flushed = (*cache)->Flush();
    ASSERT_TRUE(flushed) << Describe(flushed);
  }
  backend_->Heal();
  backend_->ClearRequests();
  auto cache = Open();
  ASSERT_TRUE(cache) << cache.error().ToString();
  EXPECT_EQ((*cache)->Usage().extents_ready, 2u) << "chunks 1 and 2 only";
  EXPECT_TRUE(ReadMatches(**cache, 0, Extents(0)[0].raw_offset, kSizes[0]));
  EXPECT_EQ(backend_->RequestCount(), 1u) << "chunk 0 is fetched after the restart";
}

}  // namespace
}  // namespace tessera::storage::cache_test
