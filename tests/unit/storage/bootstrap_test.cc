#include "tessera/storage/bootstrap.h"

#include <gtest/gtest.h>

namespace tessera::storage {
namespace {

BootstrapTables Sample() {
  BootstrapTables t;
  t.chunk_size = 1 << 20;
  BlobInfo b0;
  b0.id[0] = 0xAB;
  b0.compressed_size = 5000;
  b0.raw_size = 3 * 4096;
  b0.frame_count = 1;
  b0.chunk_count = 2;
  b0.extent_count = 2;
  t.blobs.push_back(b0);
  BlobInfo b1 = b0;
  b1.id[0] = 0xCD;
  b1.first_frame = 1;
  b1.first_chunk = 2;
  b1.chunk_count = 1;
  b1.first_extent = 2;
  b1.extent_count = 1;
  b1.raw_size = 4096;
  t.blobs.push_back(b1);
  t.frames = {{0, 4000, 9000, Codec::kZstd}, {0, 100, 100, Codec::kNone}};
  t.chunks = {{{1}, 0, 0, 5000}, {{2}, 0, 5000, 4000}, {{3}, 0, 0, 100}};
  t.extents = {{0, 5000, 0, 0}, {8192, 4000, 1, 0}, {0, 100, 0, 0}};  // blob 1 reuses chunk 0
  t.prefetch = {40, 7};
  return t;
}

std::vector<uint8_t> Image(const BootstrapTables& t, uint64_t trailer_at) {
  std::vector<uint8_t> trailer = EncodeTables(t);
  std::vector<uint8_t> image(trailer_at + trailer.size());
  std::copy(trailer.begin(), trailer.end(), image.begin() + trailer_at);
  FillExtension(t, trailer_at, trailer,
                std::span<uint8_t>(image).subspan(kExtensionOffset, kExtensionSize));
  return image;
}

TEST(BootstrapTablesTest, RoundTrip) {
  auto t = Sample();
  auto image = Image(t, 8192);
  ASSERT_TRUE(HasTesseraExtension(image));
  auto d = DecodeTables(image);
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->blobs, t.blobs);
  EXPECT_EQ(d->frames, t.frames);
  EXPECT_EQ(d->chunks, t.chunks);
  EXPECT_EQ(d->extents, t.extents);
  EXPECT_EQ(d->prefetch, t.prefetch);
  EXPECT_EQ(d->BlobOfChunk(2), 1u);
  EXPECT_EQ(d->DeviceExtents(1).size(), 1u);
}

TEST(BootstrapTablesTest, CorruptionIsRejected) {
  auto image = Image(Sample(), 8192);
  auto flip_tables = image;
  flip_tables[8192 + 10] ^= 1;
  EXPECT_FALSE(DecodeTables(flip_tables));
  auto flip_ext = image;
  flip_ext[kExtensionOffset + 20] ^= 1;
  EXPECT_FALSE(DecodeTables(flip_ext));
  auto truncated = image;
  truncated.resize(image.size() - 8);
  EXPECT_FALSE(DecodeTables(truncated));
}

TEST(BootstrapTablesTest, InconsistentTablesAreRejected) {
  auto overlap = Sample();
  overlap.extents[1].raw_offset = 4000;  // overlaps the first extent
  auto r = DecodeTables(Image(overlap, 8192));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().context.find("overlaps"), std::string::npos) << r.error().ToString();
  auto past = Sample();
  past.extents[2].size = 5000;  // past blob 1's raw size and chunk size
  EXPECT_FALSE(DecodeTables(Image(past, 8192)));
  auto bad_chunk = Sample();
  bad_chunk.chunks[1].frame_offset = 8000;  // outside the 9000-byte frame
  EXPECT_FALSE(DecodeTables(Image(bad_chunk, 8192)));
  auto bad_range = Sample();
  bad_range.blobs[1].chunk_count = 9;
  EXPECT_FALSE(DecodeTables(Image(bad_range, 8192)));
}

}  // namespace
}  // namespace tessera::storage
