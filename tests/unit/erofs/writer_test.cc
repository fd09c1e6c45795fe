// Byte-level tests of WriteImage: superblock, inode encoding, layouts, links, determinism.
#include "tessera/erofs/writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <string>
#include <vector>

#include "unit/erofs/writer_test_util.h"

#include "tessera/common/digest.h"

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

TEST(WriterTest, SuperblockFieldsAndChecksum) {
  Tree tree;
  WriterOptions opts;
  opts.build_time = 1600000000;
  opts.build_time_nsec = 123;
  opts.volume_name = "tessera-label";
  for (int i = 0; i < 16; ++i) opts.uuid[i] = static_cast<uint8_t>(i + 1);
  auto image = WriteToMemory(tree, opts);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const std::vector<uint8_t>& b = image->bytes;
  ASSERT_EQ(b.size() % kBlockSize, 0u);
  EXPECT_EQ(b.size(), image->stats.image_size);
  for (size_t i = 0; i < kSuperblockOffset; ++i) ASSERT_EQ(b[i], 0) << i;

  const SuperBlock sb = Sb(b);
  EXPECT_EQ(sb.magic, kMagic);
  EXPECT_EQ(sb.feature_compat, kCompatSbChksum | kCompatMtime);
  EXPECT_EQ(sb.feature_incompat, 0u);
  EXPECT_EQ(sb.blkszbits, 12);
  EXPECT_EQ(sb.sb_extslots, 0);
  EXPECT_EQ(sb.inos, 1u);
  EXPECT_EQ(sb.build_time, 1600000000u);
  EXPECT_EQ(sb.build_time_nsec, 123u);
  EXPECT_EQ(sb.blocks, b.size() / kBlockSize);
  EXPECT_EQ(sb.meta_blkaddr, 0u);
  EXPECT_EQ(sb.xattr_blkaddr, 0u);
  EXPECT_EQ(sb.root_nid, 128);  // first slot of block 1
  EXPECT_EQ(sb.root_nid, image->stats.root_nid);
  EXPECT_EQ(0, std::memcmp(sb.uuid, opts.uuid.data(), 16));
  EXPECT_STREQ(reinterpret_cast<const char*>(sb.volume_name), "tessera-label");
  EXPECT_EQ(sb.extra_devices, 0);
  EXPECT_EQ(sb.dirblkbits, 0);

  // §1: crc32c over [1024, 4096) with the checksum field zeroed, seed ~0, no final xor.
  std::vector<uint8_t> block0(b.begin() + 1024, b.begin() + 4096);
  std::memset(block0.data() + 4, 0, 4);
  EXPECT_EQ(sb.checksum, Crc32c(0xFFFFFFFF, block0));
  // The kernel's equivalent form: seed 0x5045B54A over the bytes after magic + checksum.
  EXPECT_EQ(sb.checksum,
            Crc32c(0x5045B54A, std::span<const uint8_t>(b.data() + 1032, 4096 - 1032)));
}

TEST(WriterTest, RootInodeAndDots) {
  Tree tree;
  tree.node(tree.root()).mode = S_IFDIR | 0700;
  tree.node(tree.root()).uid = 7;
  tree.node(tree.root()).gid = 8;
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  const InodeCompact raw = testutil::Load<InodeCompact>(b, 4096);
  EXPECT_EQ(raw.i_format, 0x0004);  // compact, FLAT_INLINE
  EXPECT_EQ(raw.i_mode, S_IFDIR | 0700);
  EXPECT_EQ(raw.i_nlink, 2);
  EXPECT_EQ(raw.i_size, 12u * 2 + 1 + 2);
  EXPECT_EQ(raw.i_u, kNullAddr);
  EXPECT_EQ(raw.i_ino, 1u);
  EXPECT_EQ(raw.i_uid, 7);
  EXPECT_EQ(raw.i_gid, 8);
  EXPECT_EQ(raw.i_mtime, 0u);
  const auto dirents = DecodeDir(b, 128);
  ASSERT_EQ(dirents.size(), 2u);
  EXPECT_EQ(dirents[0].name, ".");
  EXPECT_EQ(dirents[1].name, "..");
  for (const auto& d : dirents) {
    EXPECT_EQ(d.nid, 128u);
    EXPECT_EQ(d.type, 2);
  }
}

TEST(WriterTest, ExtendedInodeWhenCompactCannotHoldTheFields) {
  Tree tree;
  Node big_uid = FileNode("x");
  big_uid.uid = 70000;
  Node other_time = FileNode("y");
  other_time.mtime = 1700000000;
  other_time.mtime_nsec = 999;
  Node same_time = FileNode("z");
  same_time.uid = 65535;
  same_time.gid = 65535;
  ASSERT_TRUE(tree.Link(0, "a", tree.AddNode(big_uid)));
  ASSERT_TRUE(tree.Link(0, "b", tree.AddNode(other_time)));
  ASSERT_TRUE(tree.Link(0, "c", tree.AddNode(same_time)));
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  const InodeView a = DecodeInode(b, LookupNid(b, 128, "a"));
  EXPECT_TRUE(a.extended);
  EXPECT_EQ(a.format, 0x0005);  // extended FLAT_INLINE
  EXPECT_EQ(a.uid, 70000u);
  const InodeView bb = DecodeInode(b, LookupNid(b, 128, "b"));
  EXPECT_TRUE(bb.extended);
  EXPECT_EQ(bb.mtime, 1700000000u);
  EXPECT_EQ(bb.mtime_nsec, 999u);
  EXPECT_EQ(bb.nlink, 1u);
  const InodeView c = DecodeInode(b, LookupNid(b, 128, "c"));
  EXPECT_FALSE(c.extended);
  EXPECT_EQ(c.uid, 65535u);
  EXPECT_EQ(FlatData(b, c), std::vector<uint8_t>{'z'});
}

TEST(WriterTest, InodeNumbersAreUniqueAndSequential) {
  Tree tree;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(tree.Link(0, "f" + std::to_string(i), tree.AddNode(FileNode("data"))));
  }
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  std::vector<uint32_t> inos;
  for (const auto& d : DecodeDir(image->bytes, 128)) {
    if (d.name != "." && d.name != "..") inos.push_back(DecodeInode(image->bytes, d.nid).ino);
  }
  std::sort(inos.begin(), inos.end());
  ASSERT_EQ(inos.size(), 50u);
  for (size_t i = 0; i < inos.size(); ++i) EXPECT_EQ(inos[i], i + 2);  // root is 1
  EXPECT_EQ(Sb(image->bytes).inos, 51u);
}

TEST(WriterTest, HardLinksShareOneInodeOfEveryType) {
  Tree tree;
  const NodeId file = tree.AddNode(FileNode("shared"));
  const NodeId link = tree.AddNode(testutil::SymlinkNode("target"));
  Node fifo;
  fifo.mode = S_IFIFO | 0600;
  const NodeId fifo_id = tree.AddNode(fifo);
  Node whiteout;
  whiteout.mode = S_IFCHR;
  whiteout.rdev = makedev(0, 0);
  const NodeId wh = tree.AddNode(whiteout);
  const NodeId sub = tree.AddNode(testutil::DirNode());
  ASSERT_TRUE(tree.Link(0, "sub", sub));
  ASSERT_TRUE(tree.Link(0, "f1", file));
  ASSERT_TRUE(tree.Link(sub, "f2", file));
  ASSERT_TRUE(tree.Link(sub, "f3", file));
  ASSERT_TRUE(tree.Link(0, "l1", link));
  ASSERT_TRUE(tree.Link(sub, "l2", link));
  ASSERT_TRUE(tree.Link(0, "p1", fifo_id));
  ASSERT_TRUE(tree.Link(sub, "p2", fifo_id));
  ASSERT_TRUE(tree.Link(0, "w1", wh));
  ASSERT_TRUE(tree.Link(sub, "w2", wh));
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  const uint64_t sub_nid = LookupNid(b, 128, "sub");
  EXPECT_EQ(LookupNid(b, 128, "f1"), LookupNid(b, sub_nid, "f2"));
  EXPECT_EQ(LookupNid(b, 128, "f1"), LookupNid(b, sub_nid, "f3"));
  EXPECT_EQ(DecodeInode(b, LookupNid(b, 128, "f1")).nlink, 3u);
  EXPECT_EQ(LookupNid(b, 128, "l1"), LookupNid(b, sub_nid, "l2"));
  EXPECT_EQ(DecodeInode(b, LookupNid(b, 128, "l1")).nlink, 2u);
  EXPECT_EQ(LookupNid(b, 128, "p1"), LookupNid(b, sub_nid, "p2"));
  EXPECT_EQ(DecodeInode(b, LookupNid(b, 128, "p1")).nlink, 2u);
  EXPECT_EQ(LookupNid(b, 128, "w1"), LookupNid(b, sub_nid, "w2"));
  const InodeView w = DecodeInode(b, LookupNid(b, 128, "w1"));
  EXPECT_EQ(w.nlink, 2u);
  EXPECT_EQ(w.u, 0u);
  EXPECT_EQ(w.mode, S_IFCHR);
  EXPECT_EQ(DecodeInode(b, 128).nlink, 3u);  // 2 + one subdirectory
  EXPECT_EQ(DecodeInode(b, sub_nid).nlink, 2u);
  EXPECT_EQ(Sb(b).inos, 6u);
  // '..' of the subdirectory names the root; file types per entry.
  for (const auto& d : DecodeDir(b, sub_nid)) {
    if (d.name == "..") {
      EXPECT_EQ(d.nid, 128u);
    }
    if (d.name == ".") {
      EXPECT_EQ(d.nid, sub_nid);
    }
    if (d.name == "f2") {
      EXPECT_EQ(d.type, 1);
    }
    if (d.name == "l2") {
      EXPECT_EQ(d.type, 7);
    }
    if (d.name == "p2") {
      EXPECT_EQ(d.type, 5);
    }
    if (d.name == "w2") {
      EXPECT_EQ(d.type, 3);
    }
  }
}

TEST(WriterTest, DeviceFifoSocketAndEmptyFileEncoding) {
  Tree tree;
  Node chr;
  chr.mode = S_IFCHR | 0666;
  chr.rdev = makedev(1, 3);
  Node blk;
  blk.mode = S_IFBLK | 0660;
  blk.rdev = makedev(259, 0x12345);
  Node sock;
  sock.mode = S_IFSOCK | 0755;
  ASSERT_TRUE(tree.Link(0, "null", tree.AddNode(chr)));
  ASSERT_TRUE(tree.Link(0, "blk", tree.AddNode(blk)));
  ASSERT_TRUE(tree.Link(0, "sock", tree.AddNode(sock)));
  ASSERT_TRUE(tree.Link(0, "empty", tree.AddNode(FileNode(""))));
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const auto& b = image->bytes;
  const InodeView n = DecodeInode(b, LookupNid(b, 128, "null"));
  EXPECT_EQ(n.u, 0x103u);
  EXPECT_EQ(n.layout, DataLayout::kFlatPlain);
  EXPECT_EQ(n.size, 0u);
  // (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)
  EXPECT_EQ(DecodeInode(b, LookupNid(b, 128, "blk")).u, 0x45u | (259u << 8) | (0x12300u << 12));
  EXPECT_EQ(DecodeInode(b, LookupNid(b, 128, "sock")).u, 0u);
  const InodeView e = DecodeInode(b, LookupNid(b, 128, "empty"));
  EXPECT_EQ(e.layout, DataLayout::kFlatPlain);
  EXPECT_EQ(e.u, kNullAddr);
  EXPECT_EQ(e.size, 0u);
  for (const auto& d : DecodeDir(b, 128)) {
    if (d.name == "blk") {
      EXPECT_EQ(d.type, 4);
    }
    if (d.name == "sock") {
      EXPECT_EQ(d.type, 6);
    }
  }
}

TEST(WriterTest, DeterministicOutput) {
  auto build = [] {
    Tree tree;
    const NodeId d = tree.AddNode(testutil::DirNode());
    EXPECT_TRUE(tree.Link(0, "d", d));
    for (int i = 0; i < 300; ++i) {
      Node f = FileNode(std::string(static_cast<size_t>(i * 37), 'a' + i % 26));
      f.xattrs = {{"user.b", "2"}, {"user.a", std::to_string(i)}};
      EXPECT_TRUE(tree.Link(d, "file" + std::to_string(i), tree.AddNode(f)));
    }
    return tree;
  };
  WriterOptions opts;
  opts.build_time = 42;
  auto a = WriteToMemory(build(), opts);
  auto b = WriteToMemory(build(), opts);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->bytes, b->bytes);
}

}  // namespace
}  // namespace tessera::erofs
