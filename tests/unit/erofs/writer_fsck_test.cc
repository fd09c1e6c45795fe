// Writes images to disk and checks them with erofs-utils' fsck.erofs (an independent
// implementation of the format), including extraction of the file contents.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <string>
#include <vector>

#include "support/test_env.h"
#include "unit/erofs/writer_test_util.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/erofs/writer.h"

namespace tessera::erofs {
namespace {

using testutil::DirNode;
using testutil::FileNode;
using testutil::SymlinkNode;

std::string Content(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

// A tree with every kind of inode and layout the writer produces.
Tree MixedTree() {
  Tree tree;
  Node& root = tree.node(0);
  root.xattrs = {{"trusted.overlay.opaque", "y"}, {"user.root", "r"}};
  const NodeId files = tree.AddNode(DirNode());
  EXPECT_TRUE(tree.Link(0, "files", files));
  for (size_t size : {0, 1, 100, 4095, 4096, 4097, 8192, 12345, 70000}) {
    Node f = FileNode(Content(size, static_cast<int>(size)));
    f.xattrs = {{"user.size", std::to_string(size)}};
    if (size == 12345) f.uid = 100000;  // extended inode
    if (size == 4097) f.mtime = 1234567890;
    EXPECT_TRUE(tree.Link(files, "f" + std::to_string(size), tree.AddNode(f)));
  }
  const NodeId big = tree.AddNode(DirNode());
  EXPECT_TRUE(tree.Link(0, "bigdir", big));
  for (int i = 0; i < 3000; ++i) {
    EXPECT_TRUE(tree.Link(big, "entry-" + std::to_string(i) + std::string(i % 50, 'x'),
                          tree.AddNode(FileNode(i % 10 == 0 ? Content(10, i) : ""))));
  }
  EXPECT_TRUE(tree.Link(big, "!x", tree.AddNode(FileNode("bang"))));
  EXPECT_TRUE(tree.Link(big, "-x", tree.AddNode(FileNode("dash"))));
  EXPECT_TRUE(tree.Link(big, std::string(255, 'n'), tree.AddNode(FileNode("long"))));
  const NodeId links = tree.AddNode(DirNode());
  EXPECT_TRUE(tree.Link(0, "links", links));
  EXPECT_TRUE(tree.Link(links, "short", tree.AddNode(SymlinkNode("../files/f1"))));
  EXPECT_TRUE(tree.Link(links, "long", tree.AddNode(SymlinkNode(std::string(4000, 'p')))));
  const NodeId hard = tree.AddNode(FileNode("hard"));
  EXPECT_TRUE(tree.Link(links, "h1", hard));
  EXPECT_TRUE(tree.Link(files, "h2", hard));
  Node chr;
  chr.mode = S_IFCHR | 0600;
  chr.rdev = makedev(1, 3);
  EXPECT_TRUE(tree.Link(0, "null", tree.AddNode(chr)));
  Node whiteout;
  whiteout.mode = S_IFCHR;
  EXPECT_TRUE(tree.Link(0, "whiteout", tree.AddNode(whiteout)));
  Node fifo;
  fifo.mode = S_IFIFO | 0644;
  EXPECT_TRUE(tree.Link(0, "fifo", tree.AddNode(fifo)));
  return tree;
}

class WriterFsckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto missing = testing::MissingProgram("fsck.erofs")) GTEST_SKIP() << *missing;
    auto dir = TempDir::Create("writer-fsck");
    ASSERT_TRUE(dir.has_value()) << dir.error().ToString();
    dir_.emplace(std::move(dir).value());
  }

  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }

  void WriteFile(const Tree& tree, const WriterOptions& opts, const std::string& path) {
    auto sink = FileSink::Create(path);
    ASSERT_TRUE(sink.has_value()) << sink.error().ToString();
    auto stats = WriteImage(tree, opts, **sink);
    ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
    ASSERT_TRUE((*sink)->Flush());
  }

  void ExpectFsckOk(std::vector<std::string> argv) {
    auto result = testing::RunCapture(argv);
    ASSERT_TRUE(result.has_value()) << result.error().ToString();
    EXPECT_EQ(result->exit_code, 0) << testing::Describe(argv, *result);
  }

  std::optional<TempDir> dir_;
};

TEST_F(WriterFsckTest, MixedTreePassesFsckAndExtractsIdentically) {
  WriterOptions opts;
  opts.volume_name = "mixed";
  WriteFile(MixedTree(), opts, Path("img"));
  ExpectFsckOk({"fsck.erofs", Path("img")});
  ExpectFsckOk({"fsck.erofs", "--extract=" + Path("out"), Path("img")});
  for (size_t size : {1, 100, 4095, 4096, 4097, 8192, 12345, 70000}) {
    auto data = ReadFile(Path("out/files/f" + std::to_string(size)));
    ASSERT_TRUE(data.has_value()) << data.error().ToString();
    EXPECT_EQ(std::string(data->begin(), data->end()), Content(size, static_cast<int>(size)));
  }
  auto bang = ReadFile(Path("out/bigdir/!x"));
  ASSERT_TRUE(bang.has_value());
  EXPECT_EQ(std::string(bang->begin(), bang->end()), "bang");
  struct stat st {};
  ASSERT_EQ(::lstat(Path("out/bigdir/entry-2999" + std::string(2999 % 50, 'x')).c_str(), &st), 0);
}

TEST_F(WriterFsckTest, NoInlineImagePassesFsck) {
  WriterOptions opts;
  opts.inline_data = false;
  WriteFile(MixedTree(), opts, Path("img"));
  ExpectFsckOk({"fsck.erofs", Path("img")});
}

TEST_F(WriterFsckTest, ChunkedImageWithDevicesPassesFsck) {
  Tree tree;
  Node f;
  f.mode = S_IFREG | 0644;
  f.size = 3 * 4096 + 100;
  f.chunked = ChunkedData{0, {{1, 0}, {2, 1}, {1, kNullAddr}, {1, 2}}};
  ASSERT_TRUE(tree.Link(0, "chunked", tree.AddNode(f)));
  Node g = f;
  g.size = 8192;
  g.chunked = ChunkedData{1, {{2, 0}}};  // one 8 KiB chunk
  ASSERT_TRUE(tree.Link(0, "chunked8k", tree.AddNode(g)));
  ASSERT_TRUE(tree.Link(0, "plain", tree.AddNode(FileNode("plain data"))));
  WriterOptions opts;
  opts.devices = {{"blob-one", 3, 0}, {"blob-two", 2, 0}};
  opts.sb_extension_size = 256;
  opts.trailer = std::vector<uint8_t>(300, 1);
  WriteFile(tree, opts, Path("img"));
  ASSERT_TRUE(tessera::WriteFile(Path("blob1"), std::vector<uint8_t>(3 * 4096, 'A')));
  ASSERT_TRUE(tessera::WriteFile(Path("blob2"), std::vector<uint8_t>(2 * 4096, 'B')));
  ExpectFsckOk(
      {"fsck.erofs", "--device=" + Path("blob1"), "--device=" + Path("blob2"), Path("img")});
}

TEST_F(WriterFsckTest, ChunkedDataExtractsFromTheRightDevices) {
  // No holes here: fsck.erofs 1.5 --extract drops unmapped chunks instead of writing zeros
  // (the kernel reads them as zeros; checked by mounting).
  Tree tree;
  Node f;
  f.mode = S_IFREG | 0644;
  f.size = 3 * 4096 + 100;
  f.chunked = ChunkedData{0, {{1, 0}, {2, 1}, {1, 2}, {1, 1}}};
  ASSERT_TRUE(tree.Link(0, "chunked", tree.AddNode(f)));
  WriterOptions opts;
  opts.devices = {{"blob-one", 3, 0}, {"blob-two", 2, 0}};
  WriteFile(tree, opts, Path("img"));
  std::vector<uint8_t> blob1(3 * 4096), blob2(2 * 4096);
  for (size_t i = 0; i < blob1.size(); ++i) blob1[i] = static_cast<uint8_t>('a' + i / 4096);
  for (size_t i = 0; i < blob2.size(); ++i) blob2[i] = static_cast<uint8_t>('A' + i / 4096);
  ASSERT_TRUE(tessera::WriteFile(Path("blob1"), blob1));
  ASSERT_TRUE(tessera::WriteFile(Path("blob2"), blob2));
  ExpectFsckOk({"fsck.erofs", "--device=" + Path("blob1"), "--device=" + Path("blob2"),
                "--extract=" + Path("out"), Path("img")});
  auto data = ReadFile(Path("out/chunked"));
  ASSERT_TRUE(data.has_value()) << data.error().ToString();
  ASSERT_EQ(data->size(), f.size);
  EXPECT_EQ((*data)[0], 'a');      // device 1, block 0
  EXPECT_EQ((*data)[4096], 'B');   // device 2, block 1
  EXPECT_EQ((*data)[8192], 'c');   // device 1, block 2
  EXPECT_EQ((*data)[12387], 'b');  // device 1, block 1 (short last chunk)
}

}  // namespace
}  // namespace tessera::erofs
