// Sparse files (GNU old 'S' headers, PAX sparse 0.0 / 0.1 / 1.0) are materialised: holes read
// as zeros in the stream the content store gets. Hostile sparse maps end in an error or in a
// file of exactly the declared size. Also: reading the layer from a pipe, as from stdin.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "content/content_store.h"
#include "tar/tar_import.h"
#include "unit/builder/tar_test_util.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::builder {
namespace {

using tartest::ImportBytes;
using tartest::NodeBytes;
using tartest::TarWriter;

constexpr size_t kSparseSize = 5 << 20;

// A 5 MiB file: a hole, "head" at 1 MiB, a hole, "tail" at 4 MiB + 7, a trailing hole.
std::string MakeSparseFile(const std::string& dir) {
  const std::string path = dir + "/src/sparse";
  EXPECT_EQ(::mkdir((dir + "/src").c_str(), 0755), 0);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  EXPECT_TRUE(fd.valid());
  EXPECT_EQ(::ftruncate(fd.get(), kSparseSize), 0);
  EXPECT_EQ(::pwrite(fd.get(), "head", 4, 1 << 20), 4);
  EXPECT_EQ(::pwrite(fd.get(), "tail", 4, (4 << 20) + 7), 4);
  return path;
}

void ExpectSparseContent(const std::string& bytes) {
  ASSERT_EQ(bytes.size(), kSparseSize);
  EXPECT_EQ(bytes.substr(1 << 20, 4), "head");
  EXPECT_EQ(bytes.substr((4 << 20) + 7, 4), "tail");
  size_t nonzero = 0;
  for (char c : bytes) nonzero += c != 0;
  EXPECT_EQ(nonzero, 8u);
}

TEST(TarImportSparseTest, GnuTarSparseFormats) {
  auto dir = TempDir::Create("tar-sparse");
  ASSERT_TRUE(dir.has_value());
  MakeSparseFile(dir->path());
  const std::vector<std::vector<std::string>> variants = {{"--format=gnu"},
                                                          {"--format=pax", "--sparse-version=0.0"},
                                                          {"--format=pax", "--sparse-version=0.1"},
                                                          {"--format=pax", "--sparse-version=1.0"}};
  for (const auto& variant : variants) {
    const std::string tar = dir->path() + "/out.tar";
    std::vector<std::string> argv = {"tar", "--sparse", "-cf", tar};
    argv.insert(argv.end(), variant.begin(), variant.end());
    argv.insert(argv.end(), {"-C", dir->path() + "/src", "sparse"});
    ASSERT_TRUE(tartest::RunTool(argv).has_value());
    auto archive = ReadFile(tar);
    ASSERT_TRUE(archive.has_value());
    EXPECT_LT(archive->size(), size_t{64} << 10) << "tar did not store the file sparse";
    erofs::Tree tree;
    auto stats = tartest::ImportFile(tar, tree);
    ASSERT_TRUE(stats.has_value()) << variant.back() << ": " << stats.error().ToString();
    EXPECT_EQ(stats->bytes, kSparseSize);
    auto id = tree.Find("sparse");
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(tree.node(*id).size, kSparseSize);
    ExpectSparseContent(NodeBytes(tree.node(*id)));
  }
}

// PAX 0.1 sparse maps written by hand: out of order, beyond the real size, overflowing.
TEST(TarImportSparseTest, HostileSparseMaps) {
  const std::vector<std::string> maps = {"50,10,0,10", "90,20", "0,10,5,10",
                                         "9223372036854775800,10", "0,99999999999999999999"};
  for (const std::string& map : maps) {
    TarWriter w;
    w.AddPax(
        {{"GNU.sparse.size", "100"},
         {"GNU.sparse.numblocks", std::to_string(std::count(map.begin(), map.end(), ',') / 2 + 1)},
         {"GNU.sparse.map", map}});
    w.AddFile("s", std::string(20, 'd'));
    erofs::Tree tree;
    auto r = ImportBytes(w.Finish(), tree);
    if (r.has_value()) {
      // Accepted: the file has exactly its declared size.
      auto id = tree.Find("s");
      ASSERT_TRUE(id.has_value()) << map;
      EXPECT_EQ(NodeBytes(tree.node(*id)).size(), tree.node(*id).size) << map;
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << map << ": " << r.error().ToString();
    }
  }
}

// The layer arrives through a pipe (stdin, an HTTP body): no seeking, any read sizes.
TEST(TarImportSparseTest, ReadsGzipFromAPipe) {
  auto dir = TempDir::Create("tar-pipe");
  ASSERT_TRUE(dir.has_value());
  TarWriter w;
  w.AddDir("etc/");
  w.AddFile("etc/hostname", "tessera\n");
  w.AddFile("big", std::string(300000, 'b'));
  const std::string tar = dir->path() + "/l.tar";
  const std::string bytes = w.Finish();
  ASSERT_TRUE(WriteFile(tar, std::vector<uint8_t>(bytes.begin(), bytes.end())).has_value());
  ASSERT_TRUE(tartest::RunTool({"gzip", tar}).has_value());
  auto gz = ReadFile(tar + ".gz");
  ASSERT_TRUE(gz.has_value());

  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  std::thread writer([fd = fds[1], data = *gz] {
    for (size_t off = 0; off < data.size();) {
      const ssize_t n = ::write(fd, data.data() + off, std::min<size_t>(777, data.size() - off));
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  FdStream stream(std::move(read_end), "stdin");
  MemoryContentStore store;
  erofs::Tree tree;
  auto stats = ImportTar(stream, "stdin", tree, store);
  writer.join();
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  EXPECT_EQ(NodeBytes(tree.node(*tree.Find("etc/hostname"))), "tessera\n");
  EXPECT_EQ(tree.node(*tree.Find("big")).size, 300000u);
}

}  // namespace
}  // namespace tessera::builder
