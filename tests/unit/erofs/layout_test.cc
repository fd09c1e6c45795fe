// Tests of the writer's layout decisions: inline vs plain data, directory block packing,
// chunk indexes, the device table, the superblock extension and the trailer.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "unit/erofs/writer_test_util.h"

#include "tessera/common/digest.h"
#include "tessera/erofs/writer.h"

namespace tessera::erofs {
namespace {

using testutil::DecodeDir;
using testutil::DecodeInode;
using testutil::FileNode;
using testutil::FlatData;
using testutil::InodeView;
using testutil::LookupNid;
using testutil::Sb;
using testutil::WriteToMemory;

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7) % 251);
  return s;
}

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(LayoutTest, InlineVersusPlainDecisions) {
  Tree tree;
  const std::string small = Pattern(100, 1), exact = Pattern(4096, 2), tail = Pattern(5000, 3);
  const std::string big = Pattern(3 * 4096 + 17, 4);
  ASSERT_TRUE(tree.Link(0, "small", tree.AddNode(FileNode(small))));
  ASSERT_TRUE(tree.Link(0, "exact", tree.AddNode(FileNode(exact))));
  ASSERT_TRUE(tree.Link(0, "tail", tree.AddNode(FileNode(tail))));
  ASSERT_TRUE(tree.Link(0, "big", tree.AddNode(FileNode(big))));
  ASSERT_TRUE(tree.Link(0, "link", tree.AddNode(testutil::SymlinkNode(std::string(300, 'l')))));
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;

  const InodeView s = DecodeInode(b, LookupNid(b, 128, "small"));
  EXPECT_EQ(s.layout, DataLayout::kFlatInline);
  EXPECT_EQ(s.u, kNullAddr);  // everything inline
  EXPECT_EQ(FlatData(b, s), Bytes(small));
  EXPECT_LE(s.offset % kBlockSize + s.isize + 100, kBlockSize);

  const InodeView e = DecodeInode(b, LookupNid(b, 128, "exact"));
  EXPECT_EQ(e.layout, DataLayout::kFlatPlain);  // tail would be a whole block
  EXPECT_NE(e.u, kNullAddr);
  EXPECT_EQ(FlatData(b, e), Bytes(exact));

  const InodeView t = DecodeInode(b, LookupNid(b, 128, "tail"));
  EXPECT_EQ(t.layout, DataLayout::kFlatInline);
  EXPECT_NE(t.u, kNullAddr);
  EXPECT_LE(t.offset % kBlockSize + t.isize + (5000 - 4096), kBlockSize);
  EXPECT_EQ(FlatData(b, t), Bytes(tail));

  const InodeView g = DecodeInode(b, LookupNid(b, 128, "big"));
  EXPECT_EQ(FlatData(b, g), Bytes(big));
  EXPECT_EQ(image->stats.data_bytes, 100u + 4096 + 5000 + big.size());

  const InodeView l = DecodeInode(b, LookupNid(b, 128, "link"));
  EXPECT_EQ(l.layout, DataLayout::kFlatInline);
  EXPECT_EQ(l.size, 300u);
  EXPECT_EQ(FlatData(b, l), Bytes(std::string(300, 'l')));
}

TEST(LayoutTest, NoInlineDataOption) {
  Tree tree;
  ASSERT_TRUE(tree.Link(0, "small", tree.AddNode(FileNode("hello"))));
  ASSERT_TRUE(tree.Link(0, "link", tree.AddNode(testutil::SymlinkNode("t"))));
  WriterOptions opts;
  opts.inline_data = false;
  auto image = WriteToMemory(tree, opts);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  EXPECT_EQ(DecodeInode(b, 128).layout, DataLayout::kFlatPlain);
  const InodeView s = DecodeInode(b, LookupNid(b, 128, "small"));
  EXPECT_EQ(s.layout, DataLayout::kFlatPlain);
  EXPECT_EQ(FlatData(b, s), Bytes("hello"));
  EXPECT_EQ(FlatData(b, DecodeInode(b, LookupNid(b, 128, "link"))), Bytes("t"));
}

TEST(LayoutTest, TailThatCannotShareTheBlockWithBigXattrsGoesPlain) {
  Tree tree;
  Node f = FileNode(Pattern(3900, 5));
  f.xattrs = {{"user.big", std::string(1000, 'v')}};
  ASSERT_TRUE(tree.Link(0, "f", tree.AddNode(f)));
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  const InodeView v = DecodeInode(b, LookupNid(b, 128, "f"));
  EXPECT_EQ(v.layout, DataLayout::kFlatPlain);
  EXPECT_EQ(FlatData(b, v), Bytes(Pattern(3900, 5)));
}

TEST(LayoutTest, InlineTailsNeverCrossABlock) {
  Tree tree;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(
        tree.Link(0, "f" + std::to_string(1000 + i),
                  tree.AddNode(FileNode(Pattern(static_cast<size_t>(i * 97 % 4000 + 1), i)))));
  }
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  int inlined = 0;
  for (const auto& d : DecodeDir(b, 128)) {
    if (d.name[0] == '.') continue;
    const InodeView v = DecodeInode(b, d.nid);
    EXPECT_EQ(v.offset % 32, 0u);
    EXPECT_EQ(v.offset / kBlockSize, (v.offset + v.isize - 1) / kBlockSize);
    if (v.layout == DataLayout::kFlatInline) {
      ++inlined;
      EXPECT_LE(v.offset % kBlockSize + v.isize + v.xattr_size() + v.size % kBlockSize, kBlockSize);
    }
    const int i = std::stoi(d.name.substr(1)) - 1000;
    EXPECT_EQ(FlatData(b, v), Bytes(Pattern(static_cast<size_t>(i * 97 % 4000 + 1), i)));
  }
  EXPECT_GT(inlined, 100);
}

TEST(LayoutTest, BigDirectorySortedAndPackedAcrossBlocks) {
  Tree tree;
  const NodeId dir = tree.AddNode(testutil::DirNode());
  ASSERT_TRUE(tree.Link(0, "big", dir));
  std::vector<std::string> names = {"!x", "-x", ".-x", ".a", "+", "~", "\xff\xfe"};
  names.push_back(std::string(255, 'z'));
  names.push_back(std::string(255, 'a'));
  for (int i = 0; names.size() < 3000; ++i) {
    names.push_back("entry_" + std::to_string(i * 7919 % 100000) + std::string(i % 40, 'q'));
  }
  for (const auto& n : names) ASSERT_TRUE(tree.Link(dir, n, tree.AddNode(FileNode(""))));
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  const uint64_t dir_nid = LookupNid(b, 128, "big");
  const InodeView v = DecodeInode(b, dir_nid);
  const auto dirents = DecodeDir(b, dir_nid);
  ASSERT_EQ(dirents.size(), 3002u);
  // Bytewise ascending across all blocks, dots included where they sort.
  for (size_t i = 1; i < dirents.size(); ++i) {
    ASSERT_LT(std::string_view(dirents[i - 1].name), std::string_view(dirents[i].name)) << i;
  }
  EXPECT_EQ(dirents[0].name, "!x");
  EXPECT_EQ(dirents[1].name, "+");
  EXPECT_EQ(dirents[2].name, "-x");
  EXPECT_EQ(dirents[3].name, ".");
  EXPECT_EQ(dirents[4].name, ".-x");
  EXPECT_EQ(dirents[5].name, "..");
  EXPECT_EQ(dirents[6].name, ".a");
  // Packing: greedy; a block's entries + names never exceed it, and the next entry would not
  // have fitted; i_size = full blocks + used bytes of the last block.
  const size_t nblocks = dirents.back().block + 1;
  ASSERT_GT(nblocks, 10u);
  std::vector<size_t> used(nblocks, 0);
  for (const auto& d : dirents) used[d.block] += 12 + d.name.size();
  for (size_t blk = 0; blk < nblocks; ++blk) {
    EXPECT_LE(used[blk], kBlockSize);
    if (blk + 1 < nblocks) {
      const auto next = std::find_if(dirents.begin(), dirents.end(),
                                     [&](const auto& d) { return d.block == blk + 1; });
      EXPECT_GT(used[blk] + 12 + next->name.size(), kBlockSize) << "block " << blk;
    }
  }
  EXPECT_EQ(v.size, (nblocks - 1) * kBlockSize + used.back());
  for (const auto& d : dirents) {
    if (d.name == "." || d.name == "..") {
      EXPECT_EQ(d.nid, d.name == "." ? dir_nid : 128u);
      EXPECT_EQ(d.type, 2);
    } else {
      EXPECT_EQ(d.type, 1);
      EXPECT_EQ(DecodeInode(b, d.nid).mode, S_IFREG | 0644);
    }
  }
}

TEST(LayoutTest, ChunkIndexBytes) {
  Tree tree;
  Node f;
  f.mode = S_IFREG | 0644;
  f.size = 10000;                         // 4 KiB chunks → 3 entries
  f.xattrs = {{"security.test", "abc"}};  // 24-byte xattr area as in the spec's example
  f.chunked = ChunkedData{0, {{1, 7}, {0, kNullAddr}, {1, 9}}};
  ASSERT_TRUE(tree.Link(0, "c", tree.AddNode(f)));
  WriterOptions opts;
  opts.devices = {{"blob", 16, 0}};
  auto image = WriteToMemory(tree, opts);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  EXPECT_EQ(Sb(b).feature_incompat, kIncompatChunkedFile | kIncompatDeviceTable);
  const InodeView v = DecodeInode(b, LookupNid(b, 128, "c"));
  EXPECT_EQ(v.format, 0x0008);  // compact, CHUNK_BASED
  EXPECT_EQ(v.u, 0x20u);        // chunkbits 0 | INDEXES
  EXPECT_EQ(v.size, 10000u);
  EXPECT_EQ(v.icount, 4);
  const uint64_t idx = (v.body_end() + 7) / 8 * 8;
  const uint8_t want[] = {0,    0,    1,    0,    7, 0, 0, 0, 0, 0, 0, 0,
                          0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0, 9, 0, 0, 0};
  ASSERT_LE(idx + sizeof(want), b.size());
  EXPECT_EQ(0, std::memcmp(b.data() + idx, want, sizeof(want)));
}

TEST(LayoutTest, ChunkedFileWithoutDevicesAndLargeChunkSize) {
  Tree tree;
  Node f;
  f.mode = S_IFREG | 0644;
  f.size = (uint64_t{5} << 30) + 1;  // 5 GiB + 1: extended inode, 64-bit size
  f.chunked = ChunkedData{8, {}};    // 1 MiB chunks
  for (uint64_t i = 0; i < 5 * 1024 + 1; ++i) f.chunked->chunks.push_back({0, kNullAddr});
  ASSERT_TRUE(tree.Link(0, "huge", tree.AddNode(f)));
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  EXPECT_EQ(Sb(b).feature_incompat, kIncompatChunkedFile);
  const InodeView v = DecodeInode(b, LookupNid(b, 128, "huge"));
  EXPECT_TRUE(v.extended);
  EXPECT_EQ(v.format, 0x0009);
  EXPECT_EQ(v.size, f.size);
  EXPECT_EQ(v.u, 0x28u);
}

TEST(LayoutTest, DeviceTableExtensionAndTrailer) {
  Tree tree;
  WriterOptions opts;
  opts.devices = {{std::string(64, 'a'), 10, 0}, {"second", 5, 0}, {"pinned", 3, 1000}};
  opts.sb_extension_size = 256;
  opts.trailer = std::vector<uint8_t>(5000, 0xAB);
  uint64_t seen_offset = 0;
  opts.fill_extension = [&](uint64_t trailer_offset, std::span<uint8_t> ext) {
    seen_offset = trailer_offset;
    ASSERT_EQ(ext.size(), 256u);
    std::memset(ext.data(), 0x5A, ext.size());
  };
  auto image = WriteToMemory(tree, opts);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  const SuperBlock sb = Sb(b);
  EXPECT_EQ(sb.extra_devices, 3);
  EXPECT_EQ(sb.devt_slotoff, (1152 + 256) / 128);
  EXPECT_EQ(seen_offset, image->stats.trailer_offset);
  EXPECT_EQ(seen_offset % kBlockSize, 0u);
  for (size_t i = 1152; i < 1152 + 256; ++i) ASSERT_EQ(b[i], 0x5A) << i;
  EXPECT_EQ(0, std::memcmp(b.data() + seen_offset, opts.trailer.data(), opts.trailer.size()));
  EXPECT_EQ(b.size(), seen_offset + 8192);
  EXPECT_EQ(sb.blocks, b.size() / kBlockSize);
  const auto slot = [&](int i) { return testutil::Load<DeviceSlot>(b, 1408 + 128 * i); };
  EXPECT_EQ(0, std::memcmp(slot(0).tag, std::string(64, 'a').data(), 64));
  EXPECT_EQ(slot(0).blocks, 10u);
  EXPECT_EQ(slot(0).mapped_blkaddr, sb.blocks);
  EXPECT_STREQ(reinterpret_cast<const char*>(slot(1).tag), "second");
  EXPECT_EQ(slot(1).mapped_blkaddr, sb.blocks + 10);
  EXPECT_EQ(slot(2).mapped_blkaddr, 1000u);
  // The checksum covers the extension and the device table.
  std::vector<uint8_t> block0(b.begin() + 1024, b.begin() + 4096);
  std::memset(block0.data() + 4, 0, 4);
  EXPECT_EQ(sb.checksum, Crc32c(0xFFFFFFFF, block0));
}

TEST(LayoutTest, ManyDevicesSpillTheTableIntoLaterBlocks) {
  Tree tree;
  WriterOptions opts;
  for (int i = 0; i < 40; ++i) opts.devices.push_back({"d" + std::to_string(i), 1, 0});
  auto image = WriteToMemory(tree, opts);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  const SuperBlock sb = Sb(b);
  EXPECT_EQ(sb.devt_slotoff, 9);
  EXPECT_EQ(sb.root_nid, 2 * kBlockSize / 32);  // inodes start after the table
  const auto last = testutil::Load<DeviceSlot>(b, 1152 + 128 * 39);
  EXPECT_STREQ(reinterpret_cast<const char*>(last.tag), "d39");
  EXPECT_EQ(last.mapped_blkaddr, sb.blocks + 39);
  EXPECT_EQ(DecodeDir(b, sb.root_nid).size(), 2u);
}

}  // namespace
}  // namespace tessera::erofs
