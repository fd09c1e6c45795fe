// LoadDirectory: what it records from a real directory, that it holds no file descriptors,
// and (as root) that the resulting image passes fsck.erofs and mounts equal to the source.
#include "tessera/builder/dir_loader.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/scoped_mount.h"
#include "support/test_env.h"
#include "support/tree_compare.h"
#include "support/tree_gen.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/erofs/writer.h"

namespace tessera::builder {
namespace {

size_t OpenFdCount() {
  size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

void Write(const std::string& path, const std::string& content) {
  ASSERT_TRUE(tessera::WriteFile(path, std::vector<uint8_t>(content.begin(), content.end()), 0640));
}

std::string ReadAll(const ByteSource& src) {
  std::vector<uint8_t> buf(src.Size());
  EXPECT_TRUE(src.ReadAt(0, buf));
  return {buf.begin(), buf.end()};
}

class DirLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("dir-loader");
    ASSERT_TRUE(dir.has_value()) << dir.error().ToString();
    dir_.emplace(std::move(dir).value());
    src_ = dir_->path() + "/src";
    ASSERT_EQ(::mkdir(src_.c_str(), 0750), 0);
  }
  std::optional<TempDir> dir_;
  std::string src_;
};

TEST_F(DirLoaderTest, RecordsTypesAttributesLinksAndXattrs) {
  ASSERT_EQ(::mkdir((src_ + "/sub").c_str(), 0700), 0);
  Write(src_ + "/sub/file", "hello world");
  ASSERT_EQ(::link((src_ + "/sub/file").c_str(), (src_ + "/hard").c_str()), 0);
  ASSERT_EQ(::symlink("sub/file", (src_ + "/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((src_ + "/fifo").c_str(), 0600), 0);
  Write(src_ + "/empty", "");
  ASSERT_EQ(::lsetxattr((src_ + "/sub/file").c_str(), "user.note", "v1", 2, 0), 0);
  const struct timespec times[2] = {{0, UTIME_OMIT}, {1500000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src_ + "/sub/file").c_str(), times, 0), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, src_.c_str(), times, 0), 0);

  DirLoadStats stats;
  auto tree = LoadDirectory(src_, {}, &stats);
  ASSERT_TRUE(tree.has_value()) << tree.error().ToString();
  const erofs::Node& root = tree->node(tree->root());
  EXPECT_EQ(root.mode, S_IFDIR | 0750u);
  EXPECT_EQ(root.mtime, 1500000000);
  EXPECT_EQ(stats.files, 6u);
  EXPECT_EQ(stats.hardlinks, 1u);

  auto file = tree->Find("sub/file");
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(tree->Find("hard"), file);  // one node for both names
  const erofs::Node& f = tree->node(*file);
  EXPECT_EQ(f.mode, S_IFREG | 0640u);
  EXPECT_EQ(f.size, 11u);
  EXPECT_EQ(f.mtime, 1500000000);
  EXPECT_EQ(f.mtime_nsec, 123456789u);
  ASSERT_TRUE(f.data);
  EXPECT_EQ(ReadAll(*f.data), "hello world");
  EXPECT_EQ(f.xattrs, (std::vector<erofs::Xattr>{{"user.note", "v1"}}));

  const erofs::Node& l = tree->node(*tree->Find("link"));
  EXPECT_TRUE(S_ISLNK(l.mode));
  EXPECT_EQ(l.symlink_target, "sub/file");
  EXPECT_TRUE(S_ISFIFO(tree->node(*tree->Find("fifo")).mode));
  const erofs::Node& e = tree->node(*tree->Find("empty"));
  EXPECT_EQ(e.size, 0u);
  EXPECT_FALSE(e.data);
  EXPECT_EQ(tree->node(*tree->Find("sub")).mode, S_IFDIR | 0700u);
}

TEST_F(DirLoaderTest, HoldsNoFileDescriptorsPerFile) {
  for (int i = 0; i < 2000; ++i) Write(src_ + "/f" + std::to_string(i), "x" + std::to_string(i));
  const size_t before = OpenFdCount();
  auto tree = LoadDirectory(src_, {});
  ASSERT_TRUE(tree.has_value()) << tree.error().ToString();
  EXPECT_EQ(OpenFdCount(), before);
  EXPECT_EQ(ReadAll(*tree->node(*tree->Find("f1999")).data), "x1999");
  EXPECT_EQ(OpenFdCount(), before);
}

TEST_F(DirLoaderTest, LazySourceReportsAFileThatShrank) {
  Write(src_ + "/f", "0123456789");
  auto tree = LoadDirectory(src_, {});
  ASSERT_TRUE(tree.has_value());
  ASSERT_EQ(::truncate((src_ + "/f").c_str(), 4), 0);
  std::vector<uint8_t> buf(10);
  const Status st = tree->node(*tree->Find("f")).data->ReadAt(0, buf);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().context.find(src_ + "/f"), std::string::npos) << st.error().ToString();
}

TEST_F(DirLoaderTest, RootErrorsAndSymlinkedRoot) {
  EXPECT_FALSE(LoadDirectory(dir_->path() + "/missing", {}));
  Write(dir_->path() + "/plain", "x");
  auto not_dir = LoadDirectory(dir_->path() + "/plain", {});
  ASSERT_FALSE(not_dir);
  EXPECT_NE(not_dir.error().context.find("not a directory"), std::string::npos);
  Write(src_ + "/inside", "y");
  ASSERT_EQ(::symlink(src_.c_str(), (dir_->path() + "/alias").c_str()), 0);
  auto via_link = LoadDirectory(dir_->path() + "/alias", {});
  ASSERT_TRUE(via_link.has_value()) << via_link.error().ToString();
  EXPECT_TRUE(via_link->Find("inside").has_value());
}

TEST_F(DirLoaderTest, XattrsCanBeIgnored) {
  Write(src_ + "/f", "x");
  ASSERT_EQ(::lsetxattr((src_ + "/f").c_str(), "user.a", "1", 1, 0), 0);
  DirLoadOptions opts;
  opts.read_xattrs = false;
  auto tree = LoadDirectory(src_, opts);
  ASSERT_TRUE(tree.has_value());
  EXPECT_TRUE(tree->node(*tree->Find("f")).xattrs.empty());
}

// The edge-case tree through walker + writer: fsck.erofs must accept the image and, where the
// kernel can mount EROFS, the mount must equal the source.
TEST_F(DirLoaderTest, EdgeCaseTreeImagePassesFsckAndMountsEqual) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create the edge-case tree";
  if (auto missing = testing::MissingProgram("fsck.erofs")) GTEST_SKIP() << *missing;
  ASSERT_TRUE(::rmdir(src_.c_str()) == 0);
  const Status gen = testing::GenerateEdgeCaseTree(src_);
  ASSERT_TRUE(gen) << gen.error().ToString();
  auto tree = LoadDirectory(src_, {});
  ASSERT_TRUE(tree.has_value()) << tree.error().ToString();
  const std::string image = dir_->path() + "/edge.erofs";
  {
    auto sink = FileSink::Create(image);
    ASSERT_TRUE(sink.has_value());
    erofs::WriterOptions wo;
    wo.build_time = 1600000000;
    auto stats = erofs::WriteImage(*tree, wo, **sink);
    ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
    ASSERT_TRUE((*sink)->Sync());
  }
  const std::vector<std::string> fsck = {"fsck.erofs", image};
  auto result = testing::RunCapture(fsck);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, 0) << testing::Describe(fsck, *result);

  if (auto missing = testing::MissingKernelErofs()) GTEST_SKIP() << *missing;
  auto mount = testing::ScopedMount::Erofs(image, dir_->path() + "/mnt");
  ASSERT_TRUE(mount.has_value()) << mount.error().ToString();
  testing::CompareOptions copts;
  copts.root_attrs = true;
  auto diffs = testing::CompareTrees(src_, mount->path(), copts);
  ASSERT_TRUE(diffs.has_value()) << diffs.error().ToString();
  EXPECT_TRUE(diffs->empty()) << testing::FormatDiffs(*diffs);
}

}  // namespace
}  // namespace tessera::builder
