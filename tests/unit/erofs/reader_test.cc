// erofs::Reader against images written by mkfs.erofs (erofs-utils 1.5): every attribute and
// byte read back must match the source directory.
#include "tessera/erofs/reader.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "reader_test_util.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::erofs {
namespace {

using namespace reader_test;  // NOLINT

struct Seen {
  DirEntry entry;
  InodeInfo inode;
};

struct CompareOptions {
  bool mtime = true;        // compare mtimes with the source
  bool zero_mtime = false;  // mkfs -T0: every mtime is 0
  std::vector<const ByteSource*> devices;
};

std::map<std::string, Seen> WalkAll(const Reader& reader) {
  std::map<std::string, Seen> seen;
  Status st = reader.Walk([&](const std::string& path, const DirEntry& e, const InodeInfo& i) {
    EXPECT_TRUE(seen.emplace(path, Seen{e, i}).second) << "visited twice: " << path;
    return Ok();
  });
  EXPECT_TRUE(st.has_value()) << st.error().ToString();
  return seen;
}

std::vector<Xattr> SourceXattrs(const std::string& path) {
  std::vector<Xattr> out;
  std::vector<char> names(65536);
  ssize_t n = llistxattr(path.c_str(), names.data(), names.size());
  for (ssize_t pos = 0; n > 0 && pos < n;) {
    std::string name(names.data() + pos);
    pos += static_cast<ssize_t>(name.size()) + 1;
    std::string value(65536, '\0');
    ssize_t len = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    EXPECT_GE(len, 0) << path << " " << name;
    value.resize(static_cast<size_t>(std::max<ssize_t>(len, 0)));
    out.push_back({name, value});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

void CompareData(const Reader& reader, const std::string& src, const InodeInfo& inode,
                 const CompareOptions& opts) {
  auto expected = ReadFile(src);
  ASSERT_TRUE(expected.has_value()) << src;
  auto got = ReadAll(reader, inode.nid, opts.devices);
  ASSERT_TRUE(got.has_value()) << src << ": " << got.error().ToString();
  EXPECT_TRUE(*got == *expected) << src << ": content differs";
  // Short read at the end, and nothing past it.
  std::vector<uint8_t> buf(100);
  if (inode.size > 0) {
    auto n = reader.Read(inode.nid, inode.size - 1, buf, opts.devices);
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    EXPECT_EQ(*n, 1u);
    EXPECT_EQ(buf[0], expected->back());
  }
  auto n = reader.Read(inode.nid, inode.size, buf, opts.devices);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0u);
}

void CompareOne(const Reader& reader, const std::string& src, const std::string& path,
                const Seen& seen, const CompareOptions& opts) {
  struct stat st {};
  ASSERT_EQ(lstat(src.c_str(), &st), 0) << src;
  const InodeInfo& inode = seen.inode;
  SCOPED_TRACE(path);
  EXPECT_EQ(inode.mode, st.st_mode);
  EXPECT_EQ(inode.uid, st.st_uid);
  EXPECT_EQ(inode.gid, st.st_gid);
  EXPECT_EQ(inode.nlink, st.st_nlink);
  if (!S_ISDIR(st.st_mode)) {
    EXPECT_EQ(inode.size, uint64_t(st.st_size));
  }
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    EXPECT_EQ(inode.rdev, st.st_rdev);
  }
  if (opts.zero_mtime) {
    EXPECT_EQ(inode.mtime, 0);
  }
  if (opts.mtime) {
    EXPECT_EQ(inode.mtime, st.st_mtim.tv_sec);
    if (inode.extended) {
      EXPECT_EQ(inode.mtime_nsec, uint32_t(st.st_mtim.tv_nsec));
    }
  }
  if (path != "/") {
    auto nid = reader.ResolvePath(path);
    ASSERT_TRUE(nid.has_value()) << nid.error().ToString();
    EXPECT_EQ(*nid, inode.nid);
  }
  auto xattrs = reader.ListXattrs(inode.nid);
  ASSERT_TRUE(xattrs.has_value()) << xattrs.error().ToString();
  std::sort(xattrs->begin(), xattrs->end(), [](auto& a, auto& b) { return a.name < b.name; });
  EXPECT_EQ(*xattrs, SourceXattrs(src));
  if (S_ISLNK(st.st_mode)) {
    std::string target(4096, '\0');
    target.resize(size_t(readlink(src.c_str(), target.data(), target.size())));
    auto got = reader.ReadLink(inode.nid);
    ASSERT_TRUE(got.has_value()) << got.error().ToString();
    EXPECT_EQ(*got, target);
  }
  if (S_ISREG(st.st_mode)) CompareData(reader, src, inode, opts);
}

// Every path below root ("/a", "/a/b"), without following symlinks.
std::vector<std::string> ListSource(const std::string& root) {
  std::vector<std::string> out;
  std::vector<std::string> pending = {""};
  while (!pending.empty()) {
    const std::string rel = pending.back();
    pending.pop_back();
    DIR* dir = opendir((root + rel).c_str());
    if (dir == nullptr) {
      ADD_FAILURE() << "opendir " << root + rel;
      continue;
    }
    while (const dirent* d = readdir(dir)) {
      const std::string name = d->d_name;
      if (name == "." || name == "..") continue;
      out.push_back(rel + "/" + name);
      struct stat st {};
      if (lstat((root + out.back()).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        pending.push_back(out.back());
      }
    }
    closedir(dir);
  }
  return out;
}

void CompareWithSource(const Reader& reader, const std::string& src_root,
                       const CompareOptions& opts) {
  const auto seen = WalkAll(reader);
  ASSERT_TRUE(seen.count("/"));
  CompareOne(reader, src_root, "/", seen.at("/"), opts);
  const std::vector<std::string> paths = ListSource(src_root);
  for (const std::string& path : paths) {
    auto it = seen.find(path);
    ASSERT_NE(it, seen.end()) << "missing from image: " << path;
    CompareOne(reader, src_root + path, path, it->second, opts);
  }
  EXPECT_EQ(seen.size(), paths.size() + 1);
  EXPECT_EQ(seen.at("/small.txt").inode.nid, seen.at("/hard.txt").inode.nid);
}

class ReaderMkfsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!HaveMkfs() || geteuid() != 0) return;
    auto dir = TempDir::Create("tessera-reader-mkfs");
    ASSERT_TRUE(dir.has_value());
    tmp_ = new TempDir(std::move(*dir));
    src_ = tmp_->path() + "/src";
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    MakeFullTree(src_);
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  void SetUp() override { SKIP_WITHOUT_MKFS_AND_ROOT(); }

  std::string Mkfs(const std::string& name, const std::vector<std::string>& args) {
    const std::string image = tmp_->path() + "/" + name;
    Status st = RunMkfs(args, image, src_);
    EXPECT_TRUE(st.has_value()) << st.error().ToString();
    return image;
  }

  static TempDir* tmp_;
  static std::string src_;
};
TempDir* ReaderMkfsTest::tmp_ = nullptr;
std::string ReaderMkfsTest::src_;

TEST_F(ReaderMkfsTest, PlainImageMatchesSource) {
  const std::string image = Mkfs("plain.erofs", {});
  auto reader = Reader::Open(image);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  EXPECT_EQ(reader->super().block_size, 4096u);
  EXPECT_TRUE(reader->super().checksum_present);
  EXPECT_TRUE(reader->devices().empty());
  CompareWithSource(*reader, src_, {});
  // mkfs stored the xattr common to /shared0../shared5 once, as a shared xattr (§6).
  auto shared = reader->GetInode(*reader->ResolvePath("/shared0"));
  ASSERT_TRUE(shared.has_value());
  ASSERT_GT(shared->xattr_size, 0u);
  EXPECT_EQ(reader->image()[shared->inode_offset + shared->inode_size + 4], 1u);
  EXPECT_EQ(*reader->GetXattr(shared->nid, "user.shared"), "same-value");
  EXPECT_EQ(reader->GetXattr(shared->nid, "user.none").error().code, ErrorCode::kNotFound);
  // Regression: inodes whose inline tail starts in a later block than the inode itself.
  size_t tail_in_next_block = 0;
  for (const auto& [path, seen] : WalkAll(*reader)) {
    const InodeInfo& i = seen.inode;
    const uint64_t tail = i.inode_offset + i.inode_size + i.xattr_size;
    if (i.layout == DataLayout::kFlatInline && i.size % 4096 != 0 &&
        tail / 4096 != i.inode_offset / 4096) {
      ++tail_in_next_block;
    }
  }
  EXPECT_GT(tail_in_next_block, 0u);
  // OpenBytes over the same bytes sees the same image.
  auto bytes = ReadFile(image);
  ASSERT_TRUE(bytes.has_value());
  auto mem = Reader::OpenBytes(*bytes);
  ASSERT_TRUE(mem.has_value());
  EXPECT_EQ(mem->root_nid(), reader->root_nid());
  EXPECT_EQ(mem->super().inos, reader->super().inos);
}

TEST_F(ReaderMkfsTest, FixedTimeAndUuid) {
  const std::string image = Mkfs("t0.erofs", {"-T0", "-U", "01234567-89ab-cdef-0011-223344556677"});
  auto reader = Reader::Open(image);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  const std::array<uint8_t, 16> uuid = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
  EXPECT_EQ(reader->super().uuid, uuid);
  EXPECT_EQ(reader->super().build_time, 0);
  CompareWithSource(*reader, src_, {.mtime = false, .zero_mtime = true, .devices = {}});
  // With one time for everything, mkfs uses compact inodes except where uid/gid need 32 bits.
  auto nid = reader->ResolvePath("/f1");
  ASSERT_TRUE(nid.has_value());
  EXPECT_FALSE(reader->GetInode(*nid)->extended);
  auto big = reader->ResolvePath("/biguid");
  ASSERT_TRUE(big.has_value());
  EXPECT_TRUE(reader->GetInode(*big)->extended);
}

TEST_F(ReaderMkfsTest, LookupInLargeDirectory) {
  const std::string image = Mkfs("lookup.erofs", {"-T0"});
  auto reader = Reader::Open(image);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  auto dir = reader->ResolvePath("/bigdir");
  ASSERT_TRUE(dir.has_value());
  EXPECT_GT(reader->GetInode(*dir)->size, 8u * 4096);  // spans several blocks
  auto entries = reader->ReadDir(*dir);
  ASSERT_TRUE(entries.has_value()) << entries.error().ToString();
  ASSERT_EQ(entries->size(), 1502u);
  for (const DirEntry& e : *entries) {
    auto found = reader->Lookup(*dir, e.name);
    ASSERT_TRUE(found.has_value()) << e.name << ": " << found.error().ToString();
    EXPECT_EQ(found->nid, e.nid);
    EXPECT_EQ(found->type, e.type);
  }
  for (const char* absent : {"", "!", "entry_", "entry_1500", "entry_9", "zzz", "entry_10x"}) {
    auto found = reader->Lookup(*dir, absent);
    ASSERT_FALSE(found.has_value()) << absent;
    EXPECT_EQ(found.error().code, ErrorCode::kNotFound) << found.error().ToString();
  }
  auto root = reader->ReadDir(reader->root_nid());
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->front().name, "!bang");  // sorts before "."
  auto not_dir = reader->Lookup(*reader->ResolvePath("/f1"), "x");
  EXPECT_FALSE(not_dir.has_value());
  EXPECT_EQ(reader->ResolvePath("/f1/x").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(reader->ResolvePath("/nope").error().code, ErrorCode::kNotFound);
}

TEST_F(ReaderMkfsTest, ChunkedWithBlobDevice) {
  const std::string blob = tmp_->path() + "/blob.img";
  const std::string image = Mkfs("chunked.erofs", {"--chunksize=4096", "--blobdev=" + blob});
  auto reader = Reader::Open(image);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  EXPECT_EQ(reader->super().feature_incompat & 0xC, 0xCu);
  ASSERT_EQ(reader->devices().size(), 1u);
  auto blob_src = FileSource::Open(blob);
  ASSERT_TRUE(blob_src.has_value());
  const ByteSource* devs[] = {blob_src->get()};
  size_t chunked = 0;
  for (const auto& [path, seen] : WalkAll(*reader)) {
    if (!S_ISREG(seen.inode.mode) || seen.inode.size == 0) continue;
    SCOPED_TRACE(path);
    ASSERT_EQ(seen.inode.layout, DataLayout::kChunkBased);
    auto map = reader->GetChunkMap(seen.inode.nid);
    ASSERT_TRUE(map.has_value()) << map.error().ToString();
    EXPECT_EQ(map->chunk_size, 4096u);
    EXPECT_TRUE(map->indexes);
    EXPECT_EQ(map->chunks.size(), (seen.inode.size + 4095) / 4096);
    for (const ChunkRef& ref : map->chunks) EXPECT_EQ(ref.device_id, 1);
    std::vector<uint8_t> buf(10);
    auto missing = reader->Read(seen.inode.nid, 0, buf);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, ErrorCode::kUnavailable) << missing.error().ToString();
    ++chunked;
  }
  EXPECT_GT(chunked, 1500u);
  CompareWithSource(*reader, src_, {.mtime = true, .zero_mtime = false, .devices = {devs[0]}});
}

TEST_F(ReaderMkfsTest, ChunkedBlockMapWithoutBlob) {
  const std::string image = Mkfs("chunked8k.erofs", {"--chunksize=8192"});
  auto reader = Reader::Open(image);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  EXPECT_TRUE(reader->devices().empty());
  auto nid = reader->ResolvePath("/f100000");
  ASSERT_TRUE(nid.has_value());
  auto map = reader->GetChunkMap(*nid);
  ASSERT_TRUE(map.has_value()) << map.error().ToString();
  EXPECT_EQ(map->chunk_size, 8192u);
  EXPECT_FALSE(map->indexes);
  EXPECT_EQ(map->chunks.size(), 13u);
  for (const ChunkRef& ref : map->chunks) EXPECT_EQ(ref.device_id, 0);
  CompareWithSource(*reader, src_, {});
}

TEST_F(ReaderMkfsTest, CompressedImageIsUnsupported) {
  const std::string image = Mkfs("lz4.erofs", {"-zlz4"});
  auto reader = Reader::Open(image);
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(reader.error().context.find("compress"), std::string::npos)
      << reader.error().ToString();
}

TEST(ReaderOpenTest, MissingFileIsAnError) {
  auto reader = Reader::Open("/nonexistent/image.erofs");
  ASSERT_FALSE(reader.has_value());
  EXPECT_NE(reader.error().ToString().find("/nonexistent/image.erofs"), std::string::npos);
}

}  // namespace
}  // namespace tessera::erofs
