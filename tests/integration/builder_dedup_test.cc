// Deduplication: a second version of a tree with --chunk-dict stores only what changed, and
// content-defined chunking survives an inserted byte where fixed chunking does not.
#include "builder_fixture.h"

namespace tessera::testing {
namespace {

std::vector<uint8_t> Pseudo(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& b : v) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b = static_cast<uint8_t>(x >> 32);
  }
  return v;
}

class BuilderDedupTest : public BuilderTest {
 protected:
  // v1: a 16 MiB file and 20 small files; v2: one small file changed, one byte inserted in
  // the middle of the big file.
  void MakeVersions() {
    for (const char* v : {"v1", "v2"}) ASSERT_TRUE(MakeDir(Path(v)));
    big_ = Pseudo(16 << 20, 1);
    ASSERT_TRUE(WriteFile(Path("v1/big"), big_));
    for (int i = 0; i < 20; ++i) {
      auto small = Pseudo(20000 + i, 100 + i);
      ASSERT_TRUE(WriteFile(Path("v1/s" + std::to_string(i)), small));
      if (i == 7) small = Pseudo(20000 + i, 999);  // changed in v2
      ASSERT_TRUE(WriteFile(Path("v2/s" + std::to_string(i)), small));
    }
    auto inserted = big_;
    inserted.insert(inserted.begin() + inserted.size() / 2 + 12345, 0x42);
    ASSERT_TRUE(WriteFile(Path("v2/big"), inserted));
  }

  // Creates v1, then v2 against v1 as chunk dict; returns v2's stored bytes; checks v2 mounts.
  uint64_t SecondVersionBytes(const std::vector<std::string>& mode, const std::string& tag) {
    std::string b1 = Path(tag + "1.boot"), b2 = Path(tag + "2.boot");
    Create(Path("v1"), b1, mode);
    auto extra = mode;
    extra.insert(extra.end(), {"--chunk-dict", b1});
    Created c2 = Create(Path("v2"), b2, extra);
    auto devices = Export(b2);
    Fsck(b2, devices);
    auto mnt = Mount(b2, devices);
    EXPECT_TRUE(mnt) << mnt.error().ToString();
    if (mnt) ExpectSameTree(Path("v2"), mnt->path());
    return c2.stored_bytes;
  }

  std::vector<uint8_t> big_;
};

TEST_F(BuilderDedupTest, ChunkDictStoresOnlyChangedData) {
  MakeVersions();
  uint64_t fixed = SecondVersionBytes({"--chunk-size", "1M"}, "fixed");
  // Fixed 1 MiB chunks: the changed small file (20007 bytes) plus the big file from the
  // inserted byte on (its chunks all shift): 8 MiB + the tail chunk.
  EXPECT_GE(fixed, 20007u + (8u << 20) - (1u << 20));
  EXPECT_LE(fixed, 20007u + (9u << 20));
  uint64_t cdc = SecondVersionBytes({"--chunking", "cdc"}, "cdc");
  // CDC: the changed small file plus the one or two chunks around the inserted byte (≤ 1 MiB
  // each).
  EXPECT_GE(cdc, 20007u);
  EXPECT_LE(cdc, 20007u + (2u << 20));
  EXPECT_LT(cdc * 4, fixed) << "cdc " << cdc << " fixed " << fixed;
}

TEST_F(BuilderDedupTest, IdenticalTreeWithDictStoresNothing) {
  MakeVersions();
  std::string b1 = Path("a.boot");
  Create(Path("v1"), b1);
  Created again = Create(Path("v1"), Path("b.boot"), {"--chunk-dict", b1});
  EXPECT_EQ(again.stored_bytes, 0u);
}

}  // namespace
}  // namespace tessera::testing
