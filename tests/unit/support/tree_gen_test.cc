// The edge-case tree and the content generator hold what they promise.
#include "support/tree_gen.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "support/data_gen.h"
#include "support/random_tree.h"
#include "support/test_env.h"
#include "support/tree_compare.h"
#include "support/tree_view.h"

#include "tessera/common/process.h"

namespace tessera::testing {
namespace {

TEST(DataGenTest, ContentIsAddressableByOffset) {
  for (ContentKind kind : {ContentKind::kRandom, ContentKind::kText, ContentKind::kMixed}) {
    std::vector<uint8_t> whole = MakeContent(kind, 42, 200000);
    std::vector<uint8_t> piece(5000);
    FillContent(kind, 42, 131000, piece);
    EXPECT_TRUE(std::equal(piece.begin(), piece.end(), whole.begin() + 131000));
    EXPECT_NE(MakeContent(kind, 43, 1000),
              std::vector<uint8_t>(whole.begin(), whole.begin() + 1000));
  }
  EXPECT_EQ(MakeContent(ContentKind::kZeros, 1, 10), std::vector<uint8_t>(10, 0));
}

class TreeGenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    auto tmp = TempDir::Create("tessera-treegen");
    ASSERT_TRUE(tmp.has_value()) << tmp.error().ToString();
    tmp_ = new TempDir(std::move(*tmp));
    Status st = GenerateEdgeCaseTree(tmp_->path() + "/tree");
    ASSERT_TRUE(st.has_value()) << st.error().ToString();
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mknod, chown, trusted.* xattrs)";
    ASSERT_NE(tmp_, nullptr);
  }
  static std::string P(const std::string& rel) { return tmp_->path() + "/tree/" + rel; }
  static struct stat Lstat(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::lstat(P(rel).c_str(), &st), 0) << rel;
    return st;
  }

  static TempDir* tmp_;
};
TempDir* TreeGenTest::tmp_ = nullptr;

TEST_F(TreeGenTest, HoldsTheEdgeCases) {
  EXPECT_TRUE(S_ISREG(Lstat(kEdgeDeepLeaf).st_mode));
  EXPECT_EQ(Lstat(kEdgeFile4097).st_size, 4097);
  EXPECT_EQ(Lstat("files/size_10485760").st_size, 10 << 20);
  EXPECT_EQ(Lstat(kEdgeHardlinkA).st_nlink, 3u);
  EXPECT_EQ(Lstat(kEdgeHardlinkA).st_ino, Lstat("hardlinks/sub/c").st_ino);
  EXPECT_EQ(Lstat("hardlinks/symlink_1").st_ino, Lstat("hardlinks/symlink_2").st_ino);
  EXPECT_TRUE(S_ISLNK(Lstat("hardlinks/symlink_2").st_mode));
  EXPECT_EQ(Lstat("hardlinks/fifo_1").st_nlink, 2u);
  EXPECT_EQ(Lstat("links/target_4095").st_size, 4095);
  EXPECT_EQ(Lstat("devices/char_259_300000").st_rdev, makedev(259, 300000));
  EXPECT_TRUE(S_ISSOCK(Lstat("devices/socket").st_mode));
  EXPECT_EQ(Lstat("overlay/whiteout").st_rdev, makedev(0, 0));
  EXPECT_EQ(Lstat("owners/u70000_g70000").st_uid, 70000u);
  EXPECT_EQ(Lstat("owners/link_70000").st_gid, 70000u);
  EXPECT_EQ(Lstat("modes/setuid").st_mode, S_IFREG | 04755u);
  EXPECT_EQ(Lstat("modes/sticky_dir").st_mode, S_IFDIR | 01777u);
  EXPECT_EQ(Lstat("modes/zero").st_mode, S_IFREG | 0u);
  EXPECT_TRUE(S_ISREG(Lstat("names/" + std::string(255, 'n')).st_mode));
  EXPECT_TRUE(S_ISREG(Lstat("names/!bang").st_mode));
  char value[8] = {};
  EXPECT_EQ(::lgetxattr(P("overlay/opaque").c_str(), "trusted.overlay.opaque", value, 8), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_GT(::lgetxattr(P("xattrs/symlink").c_str(), "security.sym", nullptr, 0), 900);
}

TEST_F(TreeGenTest, BigDirHasAllEntries) {
  auto view = MakePosixView(P(kEdgeBigDir));
  auto names = view->List("");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(names->size(), static_cast<size_t>(kEdgeBigDirEntries));
}

TEST_F(TreeGenTest, MtimesAreSetLastChildrenFirst) {
  struct stat dir = Lstat("times/dir_nsec");
  EXPECT_EQ(dir.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(dir.st_mtim.tv_nsec, 1);
  EXPECT_EQ(Lstat("times/link_nsec").st_mtim.tv_nsec, 987654321);
  EXPECT_EQ(Lstat("times/beyond_u32").st_mtim.tv_sec, 5000000000);
  EXPECT_EQ(Lstat("times/pre_epoch").st_mtim.tv_sec, -86400);
  // The root's mtime is the generator's, not the time the last child was created.
  EXPECT_LT(Lstat("").st_mtim.tv_sec, 1800000000);
}

TEST_F(TreeGenTest, IsDeterministic) {
  auto tmp = TempDir::Create("tessera-treegen2");
  ASSERT_TRUE(tmp.has_value());
  Status st = GenerateEdgeCaseTree(tmp->path() + "/tree");
  ASSERT_TRUE(st.has_value()) << st.error().ToString();
  auto diffs = CompareTrees(P(""), tmp->path() + "/tree");
  ASSERT_TRUE(diffs.has_value()) << diffs.error().ToString();
  EXPECT_TRUE(diffs->empty()) << FormatDiffs(*diffs);
}

TEST_F(TreeGenTest, CopyWithCpArchiveIsEqual) {
  auto tmp = TempDir::Create("tessera-treegen3");
  ASSERT_TRUE(tmp.has_value());
  auto cp = RunCapture({"cp", "-a", P(""), tmp->path() + "/copy"});
  ASSERT_TRUE(cp.has_value());
  ASSERT_EQ(cp->exit_code, 0) << cp->output;
  auto diffs = CompareTrees(P(""), tmp->path() + "/copy");
  ASSERT_TRUE(diffs.has_value()) << diffs.error().ToString();
  EXPECT_TRUE(diffs->empty()) << FormatDiffs(*diffs);
}

TEST(RandomTreeTest, SameSeedSameTree) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mknod, chown, trusted.* xattrs)";
  auto tmp = TempDir::Create("tessera-randomtree");
  ASSERT_TRUE(tmp.has_value());
  RandomTreeOptions options;
  options.seed = 7;
  options.entries = 300;
  for (const char* name : {"/a", "/b"}) {
    Status st = GenerateRandomTree(tmp->path() + name, options);
    ASSERT_TRUE(st.has_value()) << st.error().ToString();
  }
  auto diffs = CompareTrees(tmp->path() + "/a", tmp->path() + "/b");
  ASSERT_TRUE(diffs.has_value()) << diffs.error().ToString();
  EXPECT_TRUE(diffs->empty()) << FormatDiffs(*diffs);
  auto names = MakePosixView(tmp->path() + "/a")->List("");
  ASSERT_TRUE(names.has_value());
  EXPECT_GT(names->size(), 20u);
  options.seed = 8;
  ASSERT_TRUE(GenerateRandomTree(tmp->path() + "/c", options).has_value());
  auto other = CompareTrees(tmp->path() + "/a", tmp->path() + "/c");
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->empty()) << "seeds 7 and 8 gave equal trees";
}

}  // namespace
}  // namespace tessera::testing
