// ImportTar on archives made by GNU tar (pax, gnu, ustar; plain, gzip, zstd) from a generated
// edge-case tree: the imported erofs::Tree must equal the source directory (types, modes,
// owners, mtimes, sizes, bytes, symlink targets, devices, xattrs, hard links).
#include "tar/tar_import.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/test_env.h"
#include "support/tree_compare.h"
#include "support/tree_gen.h"
#include "support/tree_view.h"
#include "unit/builder/tar_test_util.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/erofs/reader.h"
#include "tessera/erofs/writer.h"

namespace tessera::builder {
namespace {

using tartest::ImportFile;
using tartest::MakeTreeNodeView;
using tartest::RunTool;

const std::string kLong(200, 'L');

// Tar cannot hold sockets, and GNU tar archives hard-linked devices and fifos as separate
// entries (their hard-link import is tested with hand-made archives instead).
const std::vector<std::string> kSkipPaths = {
    "devices/socket", "hardlinks/chr_1", "hardlinks/chr_2", "hardlinks/fifo_1",
    "hardlinks/sub/fifo_2"};  // a 200-byte component: three make a path over 600 bytes

void WriteText(const std::string& path, const std::string& text) {
  ASSERT_TRUE(WriteFile(path, std::vector<uint8_t>(text.begin(), text.end())).has_value());
}

// What the shared edge-case tree lacks: names longer than 255 bytes in nested paths, hard links
// between such names, and a sparse file with leading, middle and trailing holes.
void AddTarExtras(const std::string& root) {
  const std::string deep = root + "/tar_extras/" + kLong + "/" + kLong + "/" + kLong;
  std::filesystem::create_directories(deep);
  WriteText(deep + "/" + std::string(250, 'f'), "deep file\n");
  ASSERT_EQ(::link((deep + "/" + std::string(250, 'f')).c_str(),
                   (root + "/tar_extras/" + std::string(150, 'h')).c_str()),
            0);
  const std::string sparse = root + "/tar_extras/sparse";
  UniqueFd fd(::open(sparse.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(::ftruncate(fd.get(), 3 << 20), 0);
  ASSERT_EQ(::pwrite(fd.get(), "middle", 6, 1 << 20), 6);
  ASSERT_EQ(::pwrite(fd.get(), "later", 5, (2 << 20) + 100), 5);
}

// A tree ustar can hold: short names, ids and device numbers below 2^21, no xattrs.
void MakeUstarTree(const std::string& root) {
  std::filesystem::create_directories(root + "/dir/sub");
  WriteText(root + "/dir/file", "ustar file\n");
  WriteText(root + "/dir/sub/other", std::string(5000, 'x'));
  ASSERT_EQ(::symlink("../dir/file", (root + "/dir/link").c_str()), 0);
  ASSERT_EQ(::link((root + "/dir/file").c_str(), (root + "/hard").c_str()), 0);
  ASSERT_EQ(::mknod((root + "/chr").c_str(), S_IFCHR | 0600, makedev(4, 64)), 0);
  ASSERT_EQ(::mknod((root + "/blk").c_str(), S_IFBLK | 0640, makedev(8, 1)), 0);
  ASSERT_EQ(::mkfifo((root + "/fifo").c_str(), 0644), 0);
  ASSERT_EQ(::lchown((root + "/dir/file").c_str(), 1000, 2000), 0);
}

struct RoundTripCase {
  const char* format;
  const char* compression;  // "", "gz" or "zst"
};

class TarRoundTripTest : public ::testing::TestWithParam<RoundTripCase> {
 protected:
  static void SetUpTestSuite() {
    auto dir = TempDir::Create("tar-import");
    ASSERT_TRUE(dir.has_value());
    work_ = new TempDir(std::move(dir).value());
  }
  static void TearDownTestSuite() {
    delete work_;
    work_ = nullptr;
  }

  // The source tree for a format, generated on first use (ctest runs each test alone).
  static std::string SourceFor(const std::string& format) {
    const std::string dir = work_->path() + (format == "ustar" ? "/ustar" : "/edge");
    if (std::filesystem::exists(dir)) return dir;
    if (format == "ustar") {
      std::filesystem::create_directories(dir);
      MakeUstarTree(dir);
    } else {
      EXPECT_TRUE(testing::GenerateEdgeCaseTree(dir).has_value());
      AddTarExtras(dir);
    }
    return dir;
  }

  // Makes the archive with GNU tar and compresses it; returns its path.
  static std::string MakeArchive(const RoundTripCase& c) {
    const std::string fmt = c.format;
    const std::string tar = work_->path() + "/" + fmt + ".tar";
    std::vector<std::string> argv = {"tar", "--format=" + fmt, "--numeric-owner", "-cf", tar};
    if (fmt == "pax") {
      argv.insert(argv.end(), {"--xattrs", "--xattrs-include=*", "--sparse"});
    } else if (fmt == "gnu") {
      argv.push_back("--sparse");
    }
    argv.insert(argv.end(), {"-C", SourceFor(fmt), "."});
    EXPECT_TRUE(RunTool(argv).has_value()) << fmt;
    const std::string comp = c.compression;
    if (comp == "gz") {
      EXPECT_TRUE(RunTool({"gzip", "-f", "-k", "-6", tar}).has_value());
      return tar + ".gz";
    }
    if (comp == "zst") {
      EXPECT_TRUE(RunTool({"zstd", "-q", "-f", "-3", tar, "-o", tar + ".zst"}).has_value());
      return tar + ".zst";
    }
    return tar;
  }

  static TempDir* work_;
};

TempDir* TarRoundTripTest::work_ = nullptr;

TEST_P(TarRoundTripTest, ImportedTreeEqualsSource) {
  const RoundTripCase& c = GetParam();
  const std::string archive = MakeArchive(c);
  erofs::Tree tree;
  auto stats = ImportFile(archive, tree);
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  EXPECT_GT(stats->regular_files, 0u);
  EXPECT_GT(stats->hardlinks, 0u);
  EXPECT_EQ(stats->skipped, 0u);

  const std::string fmt = c.format;
  testing::CompareOptions options;
  options.skip_paths = kSkipPaths;
  options.mtime_nsec = fmt == "pax";
  options.xattrs = fmt == "pax";
  auto diffs = testing::CompareViews(*testing::MakePosixView(SourceFor(fmt)),
                                     *MakeTreeNodeView(tree), options);
  ASSERT_TRUE(diffs.has_value()) << diffs.error().ToString();
  EXPECT_TRUE(diffs->empty()) << fmt << "/" << c.compression << ":\n"
                              << testing::FormatDiffs(*diffs);
}

INSTANTIATE_TEST_SUITE_P(Formats, TarRoundTripTest,
                         ::testing::Values(RoundTripCase{"pax", ""}, RoundTripCase{"pax", "gz"},
                                           RoundTripCase{"pax", "zst"}, RoundTripCase{"gnu", ""},
                                           RoundTripCase{"gnu", "zst"}, RoundTripCase{"ustar", ""},
                                           RoundTripCase{"ustar", "gz"}),
                         [](const auto& info) {
                           return std::string(info.param.format) + "_" +
                                  (*info.param.compression ? info.param.compression : "plain");
                         });

// Spot checks that do not rely on the comparison engine: hard links share a NodeId, sparse
// holes read as zeros, nanosecond mtimes and xattrs arrive.
TEST_F(TarRoundTripTest, PaxDetails) {
  const std::string archive = MakeArchive({"pax", "zst"});
  erofs::Tree tree;
  auto stats = ImportFile(archive, tree);
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();

  auto a = tree.Find(testing::kEdgeHardlinkA);
  auto b = tree.Find("tar_extras/" + std::string(150, 'h'));
  auto deep =
      tree.Find("tar_extras/" + kLong + "/" + kLong + "/" + kLong + "/" + std::string(250, 'f'));
  ASSERT_TRUE(a && b && deep);
  EXPECT_EQ(*b, *deep);
  EXPECT_EQ(tartest::NodeBytes(tree.node(*deep)), "deep file\n");

  auto sparse = tree.Find("tar_extras/sparse");
  ASSERT_TRUE(sparse);
  const std::string bytes = tartest::NodeBytes(tree.node(*sparse));
  ASSERT_EQ(bytes.size(), size_t{3} << 20);
  EXPECT_EQ(bytes.substr(1 << 20, 6), "middle");
  EXPECT_EQ(bytes.substr((2 << 20) + 100, 5), "later");
  EXPECT_EQ(bytes.find_first_not_of('\0'), size_t{1} << 20);

  auto nsec = tree.Find("times/nsec");
  ASSERT_TRUE(nsec);
  EXPECT_EQ(tree.node(*nsec).mtime, 1234567890);
  EXPECT_EQ(tree.node(*nsec).mtime_nsec, 123456789u);
  auto pre = tree.Find("times/pre_epoch");
  ASSERT_TRUE(pre);
  EXPECT_EQ(tree.node(*pre).mtime, -86400);
  EXPECT_EQ(tree.node(*pre).mtime_nsec, 250000000u);

  auto x = tree.Find("xattrs/file");
  ASSERT_TRUE(x);
  const auto& xattrs = tree.node(*x).xattrs;
  EXPECT_NE(std::find(xattrs.begin(), xattrs.end(),
                      erofs::Xattr{"user.binary", std::string("\0\x01\xff\x7f", 4)}),
            xattrs.end());
  EXPECT_NE(std::find(xattrs.begin(), xattrs.end(), erofs::Xattr{"trusted.t", "trusted value"}),
            xattrs.end());
}

// The imported tree is a valid EROFS writer input: write it, read it back, compare again.
TEST_F(TarRoundTripTest, ImportedTreeWritesAsErofsImage) {
  const std::string archive = MakeArchive({"pax", "gz"});
  erofs::Tree tree;
  auto stats = ImportFile(archive, tree);
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  VectorSink sink;
  auto written = erofs::WriteImage(tree, {}, sink);
  ASSERT_TRUE(written.has_value()) << written.error().ToString();
  auto reader = erofs::Reader::OpenBytes(sink.data());
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  testing::CompareOptions options;
  options.skip_paths = kSkipPaths;
  auto diffs = testing::CompareViews(*testing::MakePosixView(SourceFor("pax")),
                                     *testing::MakeReaderView(*reader), options);
  ASSERT_TRUE(diffs.has_value()) << diffs.error().ToString();
  EXPECT_TRUE(diffs->empty()) << testing::FormatDiffs(*diffs);
}

}  // namespace
}  // namespace tessera::builder
