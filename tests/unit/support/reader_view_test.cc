// ReaderView reports what erofs::Reader reads, in the shape PosixView uses, so that the two
// can be compared; CompareViews finds a difference between two images.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <memory>
#include <string>
#include <vector>

#include "support/data_gen.h"
#include "support/test_env.h"
#include "support/tree_compare.h"
#include "support/tree_view.h"

#include "tessera/common/io.h"
#include "tessera/erofs/reader.h"
#include "tessera/erofs/writer.h"

namespace tessera::testing {
namespace {

const std::vector<uint8_t> kData = MakeContent(ContentKind::kRandom, 9, 5000);

erofs::Tree SmallTree(uint32_t file_mode) {
  erofs::Tree tree;
  tree.node(tree.root()).mtime = 1600000000;
  erofs::Node file;
  file.mode = S_IFREG | file_mode;
  file.uid = 70000;
  file.gid = 1000;
  file.mtime = 1600000001;
  file.mtime_nsec = 42;
  file.size = kData.size();
  file.data = std::make_shared<MemorySource>(kData);
  file.xattrs = {{"user.x", "1"}, {"trusted.t", "tt"}};
  erofs::NodeId file_id = tree.AddNode(file);
  EXPECT_TRUE(tree.Link(tree.root(), "file", file_id).has_value());
  EXPECT_TRUE(tree.Link(tree.root(), "hard", file_id).has_value());
  erofs::Node link;
  link.mode = S_IFLNK | 0777;
  link.symlink_target = "file";
  EXPECT_TRUE(tree.Link(tree.root(), "link", tree.AddNode(link)).has_value());
  erofs::Node dev;
  dev.mode = S_IFCHR | 0600;
  dev.rdev = makedev(259, 300000);
  erofs::Node dir;
  erofs::NodeId dir_id = tree.AddNode(dir);
  EXPECT_TRUE(tree.Link(tree.root(), "dir", dir_id).has_value());
  EXPECT_TRUE(tree.Link(dir_id, "dev", tree.AddNode(dev)).has_value());
  return tree;
}

std::vector<uint8_t> Image(const erofs::Tree& tree) {
  VectorSink sink;
  auto stats = erofs::WriteImage(tree, erofs::WriterOptions{}, sink);
  EXPECT_TRUE(stats.has_value()) << stats.error().ToString();
  return sink.data();
}

TEST(ReaderViewTest, ReportsTheImage) {
  std::vector<uint8_t> bytes = Image(SmallTree(0640));
  auto reader = erofs::Reader::OpenBytes(bytes);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  auto view = MakeReaderView(*reader);

  auto names = view->List("");
  ASSERT_TRUE(names.has_value()) << names.error().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"dir", "file", "hard", "link"}));

  auto file = view->Stat("file");
  ASSERT_TRUE(file.has_value()) << file.error().ToString();
  EXPECT_EQ(file->mode, S_IFREG | 0640u);
  EXPECT_EQ(file->uid, 70000u);
  EXPECT_EQ(file->gid, 1000u);
  EXPECT_EQ(file->size, kData.size());
  EXPECT_EQ(file->mtime, 1600000001);
  EXPECT_EQ(file->mtime_nsec, 42u);
  EXPECT_EQ(file->nlink, 2u);
  auto hard = view->Stat("hard");
  ASSERT_TRUE(hard.has_value());
  EXPECT_EQ(hard->ino, file->ino);

  auto xattrs = view->Xattrs("file");
  ASSERT_TRUE(xattrs.has_value()) << xattrs.error().ToString();
  EXPECT_EQ(*xattrs, (std::vector<erofs::Xattr>{{"trusted.t", "tt"}, {"user.x", "1"}}));

  auto target = view->ReadLink("link");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(*target, "file");
  auto dev = view->Stat("dir/dev");
  ASSERT_TRUE(dev.has_value()) << dev.error().ToString();
  EXPECT_EQ(dev->rdev, makedev(259, 300000));

  auto reader_file = view->Open("file");
  ASSERT_TRUE(reader_file.has_value());
  std::vector<uint8_t> got(6000);
  auto n = (*reader_file)->ReadAt(0, got);
  ASSERT_TRUE(n.has_value()) << n.error().ToString();
  got.resize(*n);
  EXPECT_EQ(got, kData);
  EXPECT_FALSE(view->Stat("missing").has_value());
}

TEST(ReaderViewTest, ComparesTwoImages) {
  std::vector<uint8_t> a_bytes = Image(SmallTree(0640));
  std::vector<uint8_t> b_bytes = Image(SmallTree(0644));
  auto a = erofs::Reader::OpenBytes(a_bytes);
  auto b = erofs::Reader::OpenBytes(b_bytes);
  ASSERT_TRUE(a.has_value() && b.has_value());
  auto same = CompareViews(*MakeReaderView(*a), *MakeReaderView(*a));
  ASSERT_TRUE(same.has_value());
  EXPECT_TRUE(same->empty()) << FormatDiffs(*same);
  auto diffs = CompareViews(*MakeReaderView(*a), *MakeReaderView(*b));
  ASSERT_TRUE(diffs.has_value());
  EXPECT_EQ(*diffs, std::vector<std::string>{"/file: mode expected 0100640, actual 0100644"});
}

}  // namespace
}  // namespace tessera::testing
