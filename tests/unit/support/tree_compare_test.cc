// CompareTrees must see every kind of difference it promises, and nothing else.
#include "support/tree_compare.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "support/test_env.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::testing {
namespace {

void Must(int rc, const std::string& what) { ASSERT_EQ(rc, 0) << what << ": " << strerror(errno); }

class TreeCompareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown, mknod, trusted.* xattrs)";
    auto tmp = TempDir::Create("tessera-compare");
    ASSERT_TRUE(tmp.has_value()) << tmp.error().ToString();
    tmp_.emplace(std::move(*tmp));
    expected_ = tmp_->path() + "/expected";
    actual_ = tmp_->path() + "/actual";
    ASSERT_NO_FATAL_FAILURE(MakeSmallTree(expected_));
    auto cp = RunCapture({"cp", "-a", expected_, actual_});
    ASSERT_TRUE(cp.has_value()) << cp.error().ToString();
    ASSERT_EQ(cp->exit_code, 0) << cp->output;
    // Pin every mtime so that edits below (which touch parent dirs) can be undone.
    ASSERT_NO_FATAL_FAILURE(PinTimes());
  }

  void MakeSmallTree(const std::string& root) {
    Must(::mkdir(root.c_str(), 0755), "mkdir");
    Must(::mkdir((root + "/sub").c_str(), 0750), "mkdir sub");
    std::string data(10000, 'x');
    ASSERT_TRUE(
        WriteFile(root + "/file", {reinterpret_cast<const uint8_t*>(data.data()), data.size()})
            .has_value());
    ASSERT_TRUE(WriteFile(root + "/sub/other", {}).has_value());
    Must(::link((root + "/file").c_str(), (root + "/sub/hard").c_str()), "link");
    Must(::symlink("file", (root + "/link").c_str()), "symlink");
    Must(::mknod((root + "/chr").c_str(), S_IFCHR | 0600, makedev(1, 3)), "mknod");
    Must(::mkfifo((root + "/fifo").c_str(), 0644), "mkfifo");
    Must(::setxattr((root + "/file").c_str(), "user.a", "1", 1, 0), "setxattr");
    Must(::setxattr((root + "/sub").c_str(), "trusted.t", "tt", 2, 0), "setxattr");
  }

  void PinTimes() {
    for (const char* rel : {"", "/sub", "/file", "/sub/other", "/link", "/chr", "/fifo"}) {
      for (const std::string& root : {expected_, actual_}) {
        timespec t[2] = {{1600000000, 5}, {1600000000, 5}};
        Must(::utimensat(AT_FDCWD, (root + rel).c_str(), t, AT_SYMLINK_NOFOLLOW), "utimensat");
      }
    }
  }

  std::vector<std::string> Diffs(const CompareOptions& options = {}) {
    auto diffs = CompareTrees(expected_, actual_, options);
    EXPECT_TRUE(diffs.has_value()) << diffs.error().ToString();
    return diffs.has_value() ? *diffs : std::vector<std::string>{"<error>"};
  }

  // Undo the mtime change an edit made on a directory of `actual`.
  void RepinDir(const std::string& rel) {
    timespec t[2] = {{1600000000, 5}, {1600000000, 5}};
    Must(::utimensat(AT_FDCWD, (actual_ + rel).c_str(), t, AT_SYMLINK_NOFOLLOW), "utimensat");
  }

  static bool Has(const std::vector<std::string>& diffs, const std::string& text) {
    return std::any_of(diffs.begin(), diffs.end(),
                       [&](const std::string& d) { return d.find(text) != std::string::npos; });
  }

  std::optional<TempDir> tmp_;
  std::string expected_;
  std::string actual_;
};

TEST_F(TreeCompareTest, CopyIsEqual) {
  auto diffs = Diffs();
  EXPECT_TRUE(diffs.empty()) << FormatDiffs(diffs);
}

TEST_F(TreeCompareTest, ContentByte) {
  auto fd = UniqueFd::Open(actual_ + "/file", O_WRONLY);
  ASSERT_TRUE(fd.has_value());
  uint8_t y = 'y';
  ASSERT_TRUE(PwriteFull(fd->get(), {&y, 1}, 9999, "file").has_value());
  fd->Reset();
  timespec t[2] = {{1600000000, 5}, {1600000000, 5}};
  Must(::utimensat(AT_FDCWD, (actual_ + "/file").c_str(), t, 0), "utimensat");
  auto diffs = Diffs();
  ASSERT_EQ(diffs.size(), 1u) << FormatDiffs(diffs);
  EXPECT_EQ(diffs[0], "/file: content differs at byte 9999 (expected 0x78, actual 0x79)");
}

TEST_F(TreeCompareTest, SizeAndLength) {
  Must(::truncate((actual_ + "/sub/other").c_str(), 3), "truncate");
  RepinDir("/sub/other");
  auto diffs = Diffs();
  EXPECT_TRUE(Has(diffs, "/sub/other: size expected 0, actual 3")) << FormatDiffs(diffs);
  EXPECT_TRUE(Has(diffs, "/sub/other: content length differs")) << FormatDiffs(diffs);
}

TEST_F(TreeCompareTest, Mode) {
  Must(::chmod((actual_ + "/file").c_str(), 04755), "chmod");
  auto diffs = Diffs();
  ASSERT_EQ(diffs.size(), 1u) << FormatDiffs(diffs);
  EXPECT_EQ(diffs[0], "/file: mode expected 0100644, actual 0104755");
}

TEST_F(TreeCompareTest, Owner) {
  Must(::lchown((actual_ + "/link").c_str(), 70000, 1000), "lchown");
  auto diffs = Diffs();
  EXPECT_TRUE(Has(diffs, "/link: uid expected 0, actual 70000")) << FormatDiffs(diffs);
  EXPECT_TRUE(Has(diffs, "/link: gid expected 0, actual 1000")) << FormatDiffs(diffs);
  EXPECT_EQ(diffs.size(), 2u) << FormatDiffs(diffs);
}

TEST_F(TreeCompareTest, MtimeNanoseconds) {
  timespec t[2] = {{1600000000, 6}, {1600000000, 6}};
  Must(::utimensat(AT_FDCWD, (actual_ + "/fifo").c_str(), t, AT_SYMLINK_NOFOLLOW), "utimensat");
  auto diffs = Diffs();
  ASSERT_EQ(diffs.size(), 1u) << FormatDiffs(diffs);
  EXPECT_EQ(diffs[0], "/fifo: mtime expected 1600000000.000000005, actual 1600000000.000000006");
  CompareOptions seconds_only;
  seconds_only.mtime_nsec = false;
  EXPECT_TRUE(Diffs(seconds_only).empty());
}

TEST_F(TreeCompareTest, Xattrs) {
  Must(::setxattr((actual_ + "/file").c_str(), "user.a", "2", 1, 0), "setxattr");
  Must(::setxattr((actual_ + "/file").c_str(), "user.extra", "e", 1, 0), "setxattr");
  Must(::removexattr((actual_ + "/sub").c_str(), "trusted.t"), "removexattr");
  auto diffs = Diffs();
  EXPECT_TRUE(Has(diffs, "/file: xattr user.a expected \"1\", actual \"2\"")) << FormatDiffs(diffs);
  EXPECT_TRUE(Has(diffs, "/file: unexpected xattr user.extra")) << FormatDiffs(diffs);
  EXPECT_TRUE(Has(diffs, "/sub: xattr trusted.t missing in actual")) << FormatDiffs(diffs);
  EXPECT_EQ(diffs.size(), 3u) << FormatDiffs(diffs);
  CompareOptions ignore;
  ignore.ignore_xattr_prefixes = {"user.", "trusted."};
  EXPECT_TRUE(Diffs(ignore).empty()) << FormatDiffs(Diffs(ignore));
}

TEST_F(TreeCompareTest, SymlinkTarget) {
  Must(::unlink((actual_ + "/link").c_str()), "unlink");
  Must(::symlink("fil3", (actual_ + "/link").c_str()), "symlink");
  timespec t[2] = {{1600000000, 5}, {1600000000, 5}};
  Must(::utimensat(AT_FDCWD, (actual_ + "/link").c_str(), t, AT_SYMLINK_NOFOLLOW), "utimensat");
  RepinDir("");
  auto diffs = Diffs();
  ASSERT_EQ(diffs.size(), 1u) << FormatDiffs(diffs);
  EXPECT_EQ(diffs[0], "/link: symlink target expected \"file\", actual \"fil3\"");
}

TEST_F(TreeCompareTest, MissingAndExtraNames) {
  Must(::unlink((actual_ + "/fifo").c_str()), "unlink");
  Must(::mkdir((actual_ + "/sub/new").c_str(), 0755), "mkdir");
  RepinDir("");
  RepinDir("/sub");
  auto diffs = Diffs();
  EXPECT_TRUE(Has(diffs, "/fifo: missing in actual")) << FormatDiffs(diffs);
  EXPECT_TRUE(Has(diffs, "/sub/new: unexpected in actual")) << FormatDiffs(diffs);
  // The extra subdirectory also raises sub's nlink.
  EXPECT_TRUE(Has(diffs, "/sub: nlink expected 2, actual 3")) << FormatDiffs(diffs);
  EXPECT_EQ(diffs.size(), 3u) << FormatDiffs(diffs);
  CompareOptions skip;
  skip.skip_paths = {"fifo", "sub/new"};
  skip.dir_nlink = false;
  EXPECT_TRUE(Diffs(skip).empty()) << FormatDiffs(Diffs(skip));
}

TEST_F(TreeCompareTest, HardLinkSplit) {
  // Replace the second name of file by an equal but separate copy.
  auto cp = RunCapture({"cp", "-p", actual_ + "/file", actual_ + "/sub/hard.tmp"});
  ASSERT_TRUE(cp.has_value() && cp->exit_code == 0);
  Must(::rename((actual_ + "/sub/hard.tmp").c_str(), (actual_ + "/sub/hard").c_str()), "rename");
  Must(::setxattr((actual_ + "/sub/hard").c_str(), "user.a", "1", 1, 0), "setxattr");
  RepinDir("/sub");
  auto diffs = Diffs();
  EXPECT_TRUE(Has(diffs,
                  "/sub/hard: hard links differ: expected the inode of /file, actual that "
                  "of /sub/hard"))
      << FormatDiffs(diffs);
  EXPECT_TRUE(Has(diffs, "/file: nlink expected 2, actual 1")) << FormatDiffs(diffs);
  EXPECT_TRUE(Has(diffs, "/sub/hard: nlink expected 2, actual 1")) << FormatDiffs(diffs);
  EXPECT_EQ(diffs.size(), 3u) << FormatDiffs(diffs);
}

TEST_F(TreeCompareTest, HardLinkMerge) {
  // Two separate empty files in expected become one inode in actual.
  ASSERT_TRUE(WriteFile(expected_ + "/empty_a", {}).has_value());
  ASSERT_TRUE(WriteFile(expected_ + "/empty_b", {}).has_value());
  ASSERT_TRUE(WriteFile(actual_ + "/empty_a", {}).has_value());
  Must(::link((actual_ + "/empty_a").c_str(), (actual_ + "/empty_b").c_str()), "link");
  CompareOptions no_times;
  no_times.mtime = false;
  auto diffs = Diffs(no_times);
  EXPECT_TRUE(Has(diffs, "/empty_b: hard links differ")) << FormatDiffs(diffs);
}

TEST_F(TreeCompareTest, TypeAndDevice) {
  Must(::unlink((actual_ + "/chr").c_str()), "unlink");
  Must(::mknod((actual_ + "/chr").c_str(), S_IFCHR | 0600, makedev(1, 5)), "mknod");
  Must(::unlink((actual_ + "/fifo").c_str()), "unlink");
  Must(::mknod((actual_ + "/fifo").c_str(), S_IFSOCK | 0644, 0), "mknod");
  CompareOptions no_times;
  no_times.mtime = false;
  auto diffs = Diffs(no_times);
  EXPECT_TRUE(Has(diffs, "/chr: rdev expected 1:3, actual 1:5")) << FormatDiffs(diffs);
  EXPECT_TRUE(Has(diffs, "/fifo: type expected fifo, actual socket")) << FormatDiffs(diffs);
  EXPECT_EQ(diffs.size(), 2u) << FormatDiffs(diffs);
}

TEST_F(TreeCompareTest, RootAttributesCanBeSkipped) {
  Must(::chmod(actual_.c_str(), 0700), "chmod");
  EXPECT_EQ(Diffs().size(), 1u);
  CompareOptions options;
  options.root_attrs = false;
  EXPECT_TRUE(Diffs(options).empty());
}

TEST_F(TreeCompareTest, DifferenceListIsCapped) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(WriteFile(actual_ + "/extra" + std::to_string(i), {}).has_value());
  }
  CompareOptions options;
  options.max_differences = 3;
  options.root_attrs = false;
  auto diffs = Diffs(options);
  ASSERT_EQ(diffs.size(), 4u) << FormatDiffs(diffs);
  EXPECT_EQ(diffs[3], "... and 7 more");
}

TEST_F(TreeCompareTest, RootMustBeADirectory) {
  auto result = CompareTrees(expected_ + "/file", actual_);
  EXPECT_FALSE(result.has_value());
}

}  // namespace
}  // namespace tessera::testing
