#include "tessera/storage/blob.h"

#include <gtest/gtest.h>

#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::storage {
namespace {

std::vector<uint8_t> Data(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    v[i] = static_cast<uint8_t>((i % 64 < 48) ? (i / 64) % 7 : (x >> 16));  // partly compressible
  }
  return v;
}

struct Written {
  BlobResult result;
  std::vector<std::vector<uint8_t>> chunks;
};

Result<Written> WriteSample(const std::string& dir, BlobWriterOptions opts) {
  TRY(auto writer, BlobWriter::Create(dir, opts));
  Written w;
  for (uint32_t i = 0; i < 40; ++i) {
    size_t size = i % 5 == 0 ? (1 << 20) + i : 1000 + i * 37;  // big chunks and small ones
    w.chunks.push_back(Data(size, i));
  }
  for (const auto& c : w.chunks) {
    RETURN_IF_ERROR(writer->AddChunk(c, Sha256Of(c)));
  }
  // Duplicates are not stored again.
  TRY(uint32_t again, writer->AddChunk(w.chunks[3], Sha256Of(w.chunks[3])));
  if (again != 3) return MakeError(ErrorCode::kInternal, "dedup returned a new index");
  TRY(w.result, writer->Finish());
  return w;
}

TEST(BlobTest, RoundTripPacksSmallChunksAndVerifies) {
  auto dir = TempDir::Create("blob_test");
  ASSERT_TRUE(dir);
  auto w = WriteSample(dir->path(), {});
  ASSERT_TRUE(w) << w.error().ToString();
  EXPECT_EQ(w->result.meta.chunks.size(), 40u);
  // 8 big chunks get their own frames; 32 small ones (~1.6 KiB) share a few frames.
  EXPECT_LT(w->result.meta.frames.size(), 16u);
  EXPECT_EQ(w->result.path, dir->path() + "/" + ToHex(w->result.id));
  auto bytes = ReadFile(w->result.path);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(Sha256Of(*bytes), w->result.id);
  EXPECT_LT(bytes->size(), w->result.uncompressed_bytes / 2);  // it compressed

  auto src = FileSource::Open(w->result.path);
  ASSERT_TRUE(src);
  auto reader = BlobReader::Open(std::shared_ptr<const ByteSource>(std::move(*src)), "blob");
  ASSERT_TRUE(reader) << reader.error().ToString();
  ASSERT_EQ(reader->meta().chunks, w->result.meta.chunks);
  for (uint32_t i = 0; i < 40; ++i) {
    auto chunk = reader->ReadChunk(i);
    ASSERT_TRUE(chunk) << chunk.error().ToString();
    EXPECT_EQ(*chunk, w->chunks[i]) << "chunk " << i;
  }
}

TEST(BlobTest, OutputDoesNotDependOnThreadsOrCodecLevelIsHonoured) {
  auto dir1 = TempDir::Create("blob_test");
  auto dir2 = TempDir::Create("blob_test");
  ASSERT_TRUE(dir1 && dir2);
  BlobWriterOptions one;
  one.threads = 1;
  BlobWriterOptions four;
  four.threads = 4;
  auto a = WriteSample(dir1->path(), one);
  auto b = WriteSample(dir2->path(), four);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->result.id, b->result.id);
  BlobWriterOptions lz4;
  lz4.codec = Codec::kLz4;
  lz4.level = 0;
  auto c = WriteSample(dir2->path(), lz4);
  ASSERT_TRUE(c);
  EXPECT_NE(c->result.id, a->result.id);
  for (const auto& f : c->result.meta.frames) EXPECT_NE(f.codec, Codec::kZstd);
}

TEST(BlobTest, IncompressibleFramesAreStoredRaw) {
  auto dir = TempDir::Create("blob_test");
  ASSERT_TRUE(dir);
  auto writer = BlobWriter::Create(dir->path(), {});
  ASSERT_TRUE(writer);
  std::vector<uint8_t> noise(100000);
  uint64_t x = 88172645463325252ull;
  for (auto& b : noise) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  ASSERT_TRUE((*writer)->AddChunk(noise, Sha256Of(noise)));
  auto res = (*writer)->Finish();
  ASSERT_TRUE(res);
  ASSERT_EQ(res->meta.frames.size(), 1u);
  EXPECT_EQ(res->meta.frames[0].codec, Codec::kNone);
  EXPECT_EQ(res->meta.frames[0].compressed_size, 100000u);
}

TEST(BlobTest, CorruptionIsDetectedAndNamed) {
  auto dir = TempDir::Create("blob_test");
  ASSERT_TRUE(dir);
  auto w = WriteSample(dir->path(), {});
  ASSERT_TRUE(w);
  auto bytes = *ReadFile(w->result.path);
  auto open = [](std::vector<uint8_t> b) {
    return BlobReader::Open(std::make_shared<MemorySource>(std::move(b)), "b");
  };
  // Footer, meta and truncation damage fail at open.
  for (size_t cut : {0ul, 100ul, bytes.size() - 1}) {
    auto r = open(std::vector<uint8_t>(bytes.begin(), bytes.begin() + cut));
    ASSERT_FALSE(r) << cut;
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << r.error().ToString();
  }
  auto footer_flip = bytes;
  footer_flip[footer_flip.size() - 100] ^= 1;
  EXPECT_FALSE(open(footer_flip));
  // A flipped byte in chunk data is found by the chunk digest (or the decompressor).
  const FrameEntry& f0 = w->result.meta.frames[0];
  auto data_flip = bytes;
  data_flip[f0.compressed_offset + f0.compressed_size / 2] ^= 0x40;
  auto r = open(data_flip);
  ASSERT_TRUE(r) << r.error().ToString();
  auto chunk = r->ReadChunk(0);
  ASSERT_FALSE(chunk);
  EXPECT_EQ(chunk.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(chunk.error().ToString().find("frame 0"), std::string::npos)
      << chunk.error().ToString();
}

}  // namespace
}  // namespace tessera::storage
