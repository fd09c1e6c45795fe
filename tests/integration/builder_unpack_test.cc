// create -> unpack (to a directory, and to a tar extracted by GNU tar) == the source tree;
// a corrupt or missing blob fails naming the file being unpacked.
#include <sys/stat.h>
#include <unistd.h>

#include "builder_fixture.h"
#include "support/data_gen.h"
#include "support/tree_gen.h"

namespace tessera::testing {
namespace {

struct Mode {
  const char* name;
  std::vector<std::string> options;
};

class BuilderUnpackTest : public BuilderTest, public ::testing::WithParamInterface<Mode> {
 protected:
  std::string Unpack(const std::string& boot, const std::string& output, int expect = 0) {
    return Image({"unpack", "--bootstrap", boot, "--blob-dir", blobs_, "--output", output}, expect);
  }

  void ToDir(const std::string& src) {
    std::string boot = Path("image.boot");
    Create(src, boot, GetParam().options);
    Unpack(boot, Path("out"));
    ExpectSameTree(src, Path("out"));
  }

  // GNU tar (as root: owners, modes, devices, xattrs) extracts what unpack wrote.
  void ToTar(const std::string& src, const CompareOptions& compare = {}) {
    std::string boot = Path("image.boot");
    Create(src, boot, GetParam().options);
    std::string tar = Path("image.tar");
    Unpack(boot, tar);
    EXPECT_NE(::access((tar + ".tmp").c_str(), F_OK), 0) << "temporary file left behind";
    std::string x = Path("extracted");
    ASSERT_TRUE(MakeDir(x));
    std::vector<std::string> args = {"tar", "--xattrs", "--xattrs-include=*", "-xpf", tar, "-C", x};
    auto r = RunCapture(args);
    ASSERT_TRUE(r) << r.error().ToString();
    ASSERT_EQ(r->exit_code, 0) << Describe(args, *r);
    ExpectSameTree(src, x, compare);
  }

  std::string CopyOfDocs() {
    std::string src = Path("doc");
    auto r = RunCapture({"cp", "-a", "/usr/share/doc", src});
    EXPECT_TRUE(r && r->exit_code == 0);
    return src;
  }
};

TEST_P(BuilderUnpackTest, EdgeCaseTreeToDir) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  ToDir(src);
  // All-zero blocks are not written: the file stays sparse.
  struct stat st {};
  ASSERT_EQ(::lstat(Path("out/files/zeros_65536").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 65536);
  EXPECT_EQ(st.st_blocks, 0);
}

TEST_P(BuilderUnpackTest, RealTreeToDir) { ToDir(CopyOfDocs()); }

TEST_P(BuilderUnpackTest, EdgeCaseTreeToTar) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  CompareOptions compare;
  compare.skip_paths = {"devices/socket"};  // tar cannot store sockets
  ToTar(src, compare);
}

TEST_P(BuilderUnpackTest, RealTreeToTar) { ToTar(CopyOfDocs()); }

INSTANTIATE_TEST_SUITE_P(Chunking, BuilderUnpackTest,
                         ::testing::Values(Mode{"fixed_1m_zstd", {}},
                                           Mode{"cdc_lz4",
                                                {"--chunking", "cdc", "--compression", "lz4"}}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(BuilderTest, UnpackReportsSkippedSocketsInJson) {
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  std::string boot = Path("image.boot");
  Create(src, boot);
  std::string out = Image(
      {"unpack", "--json", "--bootstrap", boot, "--blob-dir", blobs_, "--output", Path("t.tar")});
  EXPECT_NE(out.find("\"skipped\": 1"), std::string::npos) << out;
  EXPECT_NE(out.find("\"/devices/socket\""), std::string::npos) << out;
  EXPECT_NE(out.find("warning: skipped 1 sockets"), std::string::npos) << out;
}

class BuilderUnpackCorruptTest : public BuilderTest {
 protected:
  void SetUp() override {
    BuilderTest::SetUp();
    if (IsSkipped()) return;
    std::string src = Path("src");
    ASSERT_TRUE(MakeDir(src));
    ASSERT_TRUE(WriteContentFile(src + "/big.bin", 3 << 20, ContentKind::kRandom, 7));
    ASSERT_TRUE(WriteContentFile(src + "/small", 100, ContentKind::kText, 8));
    boot_ = Path("image.boot");
    blob_ = blobs_ + "/" + Create(src, boot_, {"--compression", "none"}).blob_id;
  }

  // Both outputs fail with exit code 1, naming the file, and leave no tar behind.
  void ExpectBothFail(const std::string& why) {
    for (const std::string& output : {Path("out"), Path("out.tar")}) {
      std::string out =
          Image({"unpack", "--bootstrap", boot_, "--blob-dir", blobs_, "--output", output}, 1);
      EXPECT_NE(out.find("/big.bin"), std::string::npos) << out;
      EXPECT_NE(out.find(why), std::string::npos) << out;
    }
    EXPECT_NE(::access(Path("out.tar").c_str(), F_OK), 0);
    EXPECT_NE(::access(Path("out.tar.tmp").c_str(), F_OK), 0);
  }

  std::string boot_;
  std::string blob_;
};

TEST_F(BuilderUnpackCorruptTest, FlippedByteNamesFileAndShaMismatch) {
  auto bytes = ReadFile(blob_);
  ASSERT_TRUE(bytes);
  (*bytes)[bytes->size() / 3] ^= 0x01;  // inside big.bin's chunks
  ASSERT_TRUE(WriteFile(blob_, *bytes));
  ExpectBothFail("sha256 mismatch");
  // What was written before the failure stays: the small file sorts after big.bin, the
  // directory itself exists.
  struct stat st {};
  EXPECT_EQ(::stat(Path("out").c_str(), &st), 0);
}

TEST_F(BuilderUnpackCorruptTest, MissingBlobNamesFile) {
  ASSERT_EQ(::unlink(blob_.c_str()), 0);
  ExpectBothFail("big.bin");
}

}  // namespace
}  // namespace tessera::testing
