// erofs::Reader on small images assembled byte by byte in the test, for cases mkfs.erofs 1.5
// cannot produce: 512-byte blocks (and their checksum rule), chunk holes, the unified address
// space with devices, and a chunk-based directory. Needs neither root nor erofs-utils.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "reader_test_util.h"

#include "tessera/common/io.h"
#include "tessera/erofs/format.h"
#include "tessera/erofs/reader.h"

namespace tessera::erofs {
namespace {

using reader_test::FixChecksum;
using reader_test::PatternBytes;
using reader_test::Put;

constexpr uint32_t kBlk = 512;
constexpr uint32_t kMetaBlk = 4;  // inodes from byte 2048
constexpr uint64_t kRootNid = 0;
constexpr uint64_t kFileNid = 4;       // byte 2048 + 128
constexpr uint64_t kDevtSlotoff = 12;  // byte 1536

class SyntheticImage {
 public:
  SyntheticImage() : img_(12 * kBlk, 0) {
    SuperBlock sb{};
    sb.magic = kMagic;
    sb.feature_compat = kCompatSbChksum;
    sb.blkszbits = 9;
    sb.root_nid = kRootNid;
    sb.inos = 2;
    sb.blocks = 12;
    sb.meta_blkaddr = kMetaBlk;
    sb.feature_incompat = kIncompatChunkedFile | kIncompatDeviceTable;
    sb.extra_devices = 1;
    sb.devt_slotoff = kDevtSlotoff;
    std::memcpy(img_.data() + kSuperblockOffset, &sb, sizeof(sb));
    DeviceSlot slot{};
    std::memcpy(slot.tag, "blob-one", 8);
    slot.blocks = 4;
    slot.mapped_blkaddr = 20;
    std::memcpy(img_.data() + kDevtSlotoff * 128, &slot, sizeof(slot));
    WriteRoot();
    WriteFileInode();
    data_ = PatternBytes(kBlk, 3);
    std::memcpy(img_.data() + 10 * kBlk, data_.data(), kBlk);  // chunk 0 lives in block 10
    FixChecksum(img_);
  }

  std::vector<uint8_t>& bytes() { return img_; }
  const std::vector<uint8_t>& chunk0() const { return data_; }
  static uint64_t InodeOffset(uint64_t nid) { return kMetaBlk * kBlk + nid * 32; }
  static uint64_t IndexOffset() { return InodeOffset(kFileNid) + 32; }

 private:
  void WriteRoot() {
    InodeCompact root{};
    root.i_format = MakeInodeFormat(false, DataLayout::kFlatInline);
    root.i_mode = S_IFDIR | 0755;
    root.i_nlink = 2;
    root.i_size = 3 * 12 + 1 + 2 + 4;  // ".", "..", "file"
    root.i_u = kNullAddr;
    std::memcpy(img_.data() + InodeOffset(kRootNid), &root, sizeof(root));
    uint8_t* dir = img_.data() + InodeOffset(kRootNid) + 32;
    const Dirent des[] = {{kRootNid, 36, 2, 0}, {kRootNid, 37, 2, 0}, {kFileNid, 39, 1, 0}};
    std::memcpy(dir, des, sizeof(des));
    std::memcpy(dir + 36, "...file", 7);
  }

  void WriteFileInode() {
    InodeCompact file{};
    file.i_format = MakeInodeFormat(false, DataLayout::kChunkBased);
    file.i_mode = S_IFREG | 0644;
    file.i_nlink = 1;
    file.i_size = 1500;              // 3 chunks of 512 bytes
    file.i_u = kChunkFormatIndexes;  // chunkbits 0: chunk = block = 512
    std::memcpy(img_.data() + InodeOffset(kFileNid), &file, sizeof(file));
    const ChunkIndex idx[] = {{0, 0, 10}, {0, 0, kNullAddr}, {0, 1, 2}};
    std::memcpy(img_.data() + IndexOffset(), idx, sizeof(idx));
  }

  std::vector<uint8_t> img_;
  std::vector<uint8_t> data_;
};

TEST(ReaderSyntheticTest, SmallBlocksHolesAndDevices) {
  SyntheticImage image;
  auto reader = Reader::OpenBytes(image.bytes());
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  EXPECT_EQ(reader->super().block_size, 512u);
  EXPECT_TRUE(reader->super().checksum_present);
  ASSERT_EQ(reader->devices().size(), 1u);
  EXPECT_EQ(reader->devices()[0].tag, "blob-one");
  auto entry = reader->Lookup(kRootNid, "file");
  ASSERT_TRUE(entry.has_value()) << entry.error().ToString();
  EXPECT_EQ(entry->nid, kFileNid);

  auto map = reader->GetChunkMap(kFileNid);
  ASSERT_TRUE(map.has_value()) << map.error().ToString();
  EXPECT_EQ(map->chunk_size, 512u);
  ASSERT_EQ(map->chunks.size(), 3u);
  EXPECT_EQ(map->chunks[1].blkaddr, kNullAddr);
  EXPECT_EQ(map->chunks[2].device_id, 1);

  const std::vector<uint8_t> blob = PatternBytes(4 * kBlk, 9);
  MemorySource blob_src{std::span<const uint8_t>(blob)};
  const ByteSource* devices[] = {&blob_src};
  std::vector<uint8_t> out(2000, 0xAA);
  auto n = reader->Read(kFileNid, 0, out, devices);
  ASSERT_TRUE(n.has_value()) << n.error().ToString();
  ASSERT_EQ(*n, 1500u);
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 512, image.chunk0().begin()));
  EXPECT_TRUE(std::all_of(out.begin() + 512, out.begin() + 1024, [](uint8_t b) { return !b; }));
  EXPECT_TRUE(std::equal(out.begin() + 1024, out.begin() + 1500, blob.begin() + 2 * kBlk));
  // Reading across the hole and into device 1, from the middle.
  auto mid = reader->Read(kFileNid, 1000, std::span<uint8_t>(out).first(100), devices);
  ASSERT_TRUE(mid.has_value());
  EXPECT_TRUE(std::all_of(out.begin(), out.begin() + 24, [](uint8_t b) { return !b; }));
  EXPECT_TRUE(std::equal(out.begin() + 24, out.begin() + 100, blob.begin() + 2 * kBlk));
  // Without the device: the hole and chunk 0 still read, chunk 2 is unavailable.
  EXPECT_TRUE(reader->Read(kFileNid, 0, std::span<uint8_t>(out).first(1024)).has_value());
  auto missing = reader->Read(kFileNid, 1024, out);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(missing.error().context.find("blob-one"), std::string::npos);
}

TEST(ReaderSyntheticTest, UnifiedAddressSpace) {
  SyntheticImage image;
  // Chunk 0 on device 0 at block 21: inside the slot's range [20, 24), so device 1 block 1.
  Put<uint32_t>(image.bytes(), SyntheticImage::IndexOffset() + 4, 21);
  FixChecksum(image.bytes());
  auto reader = Reader::OpenBytes(image.bytes());
  ASSERT_TRUE(reader.has_value());
  const std::vector<uint8_t> blob = PatternBytes(4 * kBlk, 9);
  MemorySource blob_src{std::span<const uint8_t>(blob)};
  const ByteSource* devices[] = {&blob_src};
  std::vector<uint8_t> out(512);
  ASSERT_TRUE(reader->Read(kFileNid, 0, out, devices).has_value());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), blob.begin() + kBlk));
  // Without devices, block 21 is read from the image, which is only 12 blocks long.
  auto n = reader->Read(kFileNid, 0, out);
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(n.error().context.find("past image end"), std::string::npos);
}

TEST(ReaderSyntheticTest, ChecksumCoversBlksz512BytesFromTheSuperblock) {
  SyntheticImage image;
  auto bytes = image.bytes();
  bytes[1024 + 511] ^= 1;  // the last covered byte for 512-byte blocks
  EXPECT_EQ(Reader::OpenBytes(bytes).error().code, ErrorCode::kCorrupt);
  bytes = image.bytes();
  bytes[1024 + 512] ^= 1;  // first byte after the covered range: not checked
  EXPECT_TRUE(Reader::OpenBytes(bytes).has_value());
}

TEST(ReaderSyntheticTest, ChunkBasedDirectory) {
  SyntheticImage image;
  auto& img = image.bytes();
  // Turn the root into a chunk-based directory whose single 512-byte chunk is block 11.
  InodeCompact root{};
  std::memcpy(&root, img.data() + SyntheticImage::InodeOffset(kRootNid), sizeof(root));
  std::vector<uint8_t> dir(img.begin() + SyntheticImage::InodeOffset(kRootNid) + 32,
                           img.begin() + SyntheticImage::InodeOffset(kRootNid) + 32 + root.i_size);
  std::memcpy(img.data() + 11 * kBlk, dir.data(), dir.size());
  root.i_format = MakeInodeFormat(false, DataLayout::kChunkBased);
  root.i_u = 0;  // 4-byte block map, chunk = 512
  std::memcpy(img.data() + SyntheticImage::InodeOffset(kRootNid), &root, sizeof(root));
  Put<uint32_t>(img, SyntheticImage::InodeOffset(kRootNid) + 32, 11);
  FixChecksum(img);
  auto reader = Reader::OpenBytes(img);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  auto entries = reader->ReadDir(kRootNid);
  ASSERT_TRUE(entries.has_value()) << entries.error().ToString();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[2].name, "file");
  Status st =
      reader->Walk([](const std::string&, const DirEntry&, const InodeInfo&) { return Ok(); });
  EXPECT_TRUE(st.has_value()) << st.error().ToString();
}

}  // namespace
}  // namespace tessera::erofs
