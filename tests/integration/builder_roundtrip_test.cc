// create -> check -> export -> fsck.erofs -> kernel mount == source tree.
#include "builder_fixture.h"
#include "support/tree_gen.h"

namespace tessera::testing {
namespace {

struct Mode {
  const char* name;
  std::vector<std::string> options;
};

class BuilderRoundTripTest : public BuilderTest, public ::testing::WithParamInterface<Mode> {
 protected:
  void RoundTrip(const std::string& src, const CompareOptions& compare = {}) {
    std::string boot = Path("image.boot");
    Created c = Create(src, boot, GetParam().options);
    Image({"check", "--bootstrap", boot, "--blob-dir", blobs_});
    auto devices = Export(boot);
    Fsck(boot, devices);
    auto mnt = Mount(boot, devices);
    ASSERT_TRUE(mnt) << mnt.error().ToString();
    ExpectSameTree(src, mnt->path(), compare);
  }
};

TEST_P(BuilderRoundTripTest, EdgeCaseTree) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  RoundTrip(src);
}

TEST_P(BuilderRoundTripTest, RealTree) {
  // A real tree from this machine: documentation (many small files, links, duplicates).
  std::string src = Path("doc");
  auto r = RunCapture({"cp", "-a", "/usr/share/doc", src});
  ASSERT_TRUE(r && r->exit_code == 0);
  RoundTrip(src);
}

INSTANTIATE_TEST_SUITE_P(
    Chunking, BuilderRoundTripTest,
    ::testing::Values(Mode{"fixed_1m_zstd", {}},
                      Mode{"fixed_4k_lz4", {"--chunk-size", "4K", "--compression", "lz4"}},
                      Mode{"cdc_none", {"--chunking", "cdc", "--compression", "none"}},
                      Mode{"all_inline", {"--inline-threshold", "64K"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(BuilderTest, OutputIsDeterministic) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  Created a = Create(src, Path("a.boot"), {"--threads", "1"});
  Created b = Create(src, Path("b.boot"), {"--threads", "2"});
  EXPECT_EQ(a.blob_id, b.blob_id);
  auto ba = ReadFile(Path("a.boot"));
  auto bb = ReadFile(Path("b.boot"));
  ASSERT_TRUE(ba && bb);
  EXPECT_TRUE(*ba == *bb) << "bootstraps differ";
}

TEST_F(BuilderTest, CheckNamesCorruptChunkAndTruncatedBlob) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  std::string boot = Path("image.boot");
  Created c = Create(src, boot, {"--compression", "none"});
  std::string blob = blobs_ + "/" + c.blob_id;
  auto bytes = ReadFile(blob);
  ASSERT_TRUE(bytes);
  auto flipped = *bytes;
  flipped[flipped.size() / 3] ^= 0x01;
  ASSERT_TRUE(WriteFile(blob, flipped));
  std::string out = Image({"check", "--bootstrap", boot, "--blob-dir", blobs_}, 1);
  EXPECT_NE(out.find("problem: " + c.blob_id + " chunk "), std::string::npos) << out;
  EXPECT_NE(out.find("sha256 mismatch"), std::string::npos) << out;
  // A flipped byte never reaches a reader: export refuses the chunk.
  std::string dir = Path("raw_bad");
  ASSERT_TRUE(MakeDir(dir));
  out = Image({"export", "--bootstrap", boot, "--blob-dir", blobs_, "--output", dir}, 1);
  EXPECT_NE(out.find("sha256 mismatch"), std::string::npos) << out;
  // Truncated blob: named, no crash.
  ASSERT_TRUE(WriteFile(blob, std::span(*bytes).first(bytes->size() - 100)));
  out = Image({"check", "--bootstrap", boot, "--blob-dir", blobs_}, 1);
  EXPECT_NE(out.find("problem: " + c.blob_id), std::string::npos) << out;
}

}  // namespace
}  // namespace tessera::testing
