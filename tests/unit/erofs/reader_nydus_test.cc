// erofs::Reader against a foreign image: a RAFS v6 bootstrap from the Nydus project.
// Expected values were taken from a kernel mount of the same file (file-backed, any regular
// file as device=): root nid 128 (size 67), lib.rs nid 133 (16931 bytes, mtime
// 1676819553.628661334), sync_io.rs nid 136 (13400 bytes, mtime 1676819553.628993084).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "reader_test_util.h"

#include "tessera/erofs/reader.h"

namespace tessera::erofs {
namespace {

using reader_test::kNydusBoot;

class ReaderNydusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kNydusBoot, R_OK) != 0) GTEST_SKIP() << kNydusBoot << " is not present";
  }
};

TEST_F(ReaderNydusTest, Superblock) {
  auto reader = Reader::Open(kNydusBoot);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  const SuperBlockInfo& sb = reader->super();
  EXPECT_EQ(sb.block_size, 4096u);
  EXPECT_EQ(sb.root_nid, 128u);
  EXPECT_EQ(sb.meta_blkaddr, 2u);
  EXPECT_EQ(sb.inos, 3u);
  EXPECT_EQ(sb.feature_incompat, 0x0Cu);
  EXPECT_EQ(sb.feature_compat & 0x40000000u, 0x40000000u);  // RAFS v6 marker
  EXPECT_FALSE(sb.checksum_present);
  ASSERT_EQ(reader->devices().size(), 1u);
  EXPECT_EQ(reader->devices()[0].tag,
            "be7d77eeb719f70884758d1aa800ed0fb09d701aaec469964e9d54325f0d5fef");
}

TEST_F(ReaderNydusTest, WalkAndChunkMaps) {
  auto reader = Reader::Open(kNydusBoot);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  std::map<std::string, InodeInfo> seen;
  Status st = reader->Walk([&](const std::string& path, const DirEntry&, const InodeInfo& i) {
    seen[path] = i;
    return Ok();
  });
  ASSERT_TRUE(st.has_value()) << st.error().ToString();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen["/"].nid, 128u);
  EXPECT_EQ(seen["/"].size, 67u);
  EXPECT_TRUE(S_ISDIR(seen["/"].mode));
  const struct {
    const char* path;
    uint64_t nid;
    uint64_t size;
    uint32_t nsec;
  } files[] = {{"/lib.rs", 133, 16931, 628661334}, {"/sync_io.rs", 136, 13400, 628993084}};
  for (const auto& f : files) {
    SCOPED_TRACE(f.path);
    ASSERT_TRUE(seen.count(f.path));
    const InodeInfo& inode = seen[f.path];
    EXPECT_EQ(inode.nid, f.nid);
    EXPECT_EQ(inode.size, f.size);
    EXPECT_EQ(inode.mode, uint32_t(S_IFREG | 0644));
    EXPECT_EQ(inode.mtime, 1676819553);
    EXPECT_EQ(inode.mtime_nsec, f.nsec);
    ASSERT_EQ(inode.layout, DataLayout::kChunkBased);
    auto map = reader->GetChunkMap(inode.nid);
    ASSERT_TRUE(map.has_value()) << map.error().ToString();
    ASSERT_GT(map->chunk_size, 0u);
    EXPECT_TRUE(map->indexes);
    EXPECT_EQ(map->chunks.size(), (f.size + map->chunk_size - 1) / map->chunk_size);
    for (const ChunkRef& ref : map->chunks) EXPECT_EQ(ref.device_id, 1);
    // The blob is not here: data is unavailable, and says which device is missing.
    std::vector<uint8_t> buf(100);
    auto n = reader->Read(inode.nid, 0, buf);
    ASSERT_FALSE(n.has_value());
    EXPECT_EQ(n.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(n.error().context.find("device 1"), std::string::npos) << n.error().ToString();
    auto x = reader->ListXattrs(inode.nid);
    EXPECT_TRUE(x.has_value());
  }
  auto lookup = reader->Lookup(reader->root_nid(), "sync_io.rs");
  ASSERT_TRUE(lookup.has_value());
  EXPECT_EQ(lookup->nid, 136u);
  EXPECT_EQ(lookup->type, FileType::kRegular);
}

}  // namespace
}  // namespace tessera::erofs
