// erofs::Reader on damaged images: each mutation of a valid mkfs.erofs image must give a clear
// error (code + the field named in the message), never a crash or a read outside the image.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "reader_test_util.h"

#include "tessera/common/process.h"
#include "tessera/erofs/reader.h"

namespace tessera::erofs {
namespace {

using namespace reader_test;  // NOLINT

// Byte offsets inside an inode (§2.1, §2.2).
constexpr uint64_t kFormatOff = 0;
constexpr uint64_t kIcountOff = 2;
constexpr uint64_t kSizeOff = 8;
constexpr uint64_t kIuOff = 16;
// Superblock fields (§1), absolute.
constexpr uint64_t kSb = 1024;

class ReaderCorruptTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!HaveMkfs() || geteuid() != 0) return;
    auto dir = TempDir::Create("tessera-reader-corrupt");
    ASSERT_TRUE(dir.has_value());
    tmp_ = new TempDir(std::move(*dir));
    const std::string src = tmp_->path() + "/src";
    ASSERT_EQ(mkdir(src.c_str(), 0755), 0);
    MakeSmallTree(src);
    const std::string& t = tmp_->path();
    ASSERT_TRUE(RunMkfs({"-T0"}, t + "/compact.erofs", src).has_value());
    ASSERT_TRUE(RunMkfs({}, t + "/extended.erofs", src).has_value());
    ASSERT_TRUE(RunMkfs({"-T0", "--chunksize=4096", "--blobdev=" + t + "/blob.img"},
                        t + "/chunked.erofs", src)
                    .has_value());
    compact_ = new std::vector<uint8_t>(*ReadFile(t + "/compact.erofs"));
    extended_ = new std::vector<uint8_t>(*ReadFile(t + "/extended.erofs"));
    chunked_ = new std::vector<uint8_t>(*ReadFile(t + "/chunked.erofs"));
  }
  static void TearDownTestSuite() {
    delete compact_;
    delete extended_;
    delete chunked_;
    delete tmp_;
  }
  void SetUp() override { SKIP_WITHOUT_MKFS_AND_ROOT(); }

  // Inode facts of `path` in the unmodified image.
  static InodeInfo Inode(const std::vector<uint8_t>& img, const std::string& path) {
    auto reader = Reader::OpenBytes(img);
    EXPECT_TRUE(reader.has_value());
    auto nid = reader->ResolvePath(path);
    EXPECT_TRUE(nid.has_value()) << path;
    return *reader->GetInode(*nid);
  }

  // Byte offset of dirent `name` of directory `dir` (first block only).
  static uint64_t DirentOffset(const std::vector<uint8_t>& img, const std::string& dir,
                               const std::string& name) {
    auto reader = Reader::OpenBytes(img);
    const InodeInfo inode = Inode(img, dir);
    auto entries = reader->ReadDir(inode.nid);
    EXPECT_TRUE(entries.has_value());
    for (size_t i = 0; i < entries->size(); ++i) {
      if ((*entries)[i].name == name) return FirstDirBlockOffset(*reader, inode) + 12 * i;
    }
    ADD_FAILURE() << "no dirent " << name << " in " << dir;
    return 0;
  }

  static TempDir* tmp_;
  static std::vector<uint8_t>* compact_;
  static std::vector<uint8_t>* extended_;
  static std::vector<uint8_t>* chunked_;
};
TempDir* ReaderCorruptTest::tmp_ = nullptr;
std::vector<uint8_t>* ReaderCorruptTest::compact_ = nullptr;
std::vector<uint8_t>* ReaderCorruptTest::extended_ = nullptr;
std::vector<uint8_t>* ReaderCorruptTest::chunked_ = nullptr;

// The first error of opening and walking/reading everything (Ok if none).
Status OpenAndExercise(const std::vector<uint8_t>& img) {
  auto reader = Reader::OpenBytes(img);
  if (!reader) return reader.error();
  return ExerciseAll(*reader);
}

void ExpectError(const Status& st, ErrorCode code, const std::string& needle) {
  ASSERT_FALSE(st.has_value()) << "expected an error mentioning '" << needle << "'";
  EXPECT_EQ(st.error().code, code) << st.error().ToString();
  EXPECT_NE(st.error().context.find(needle), std::string::npos) << st.error().ToString();
}

template <typename T>
Status StatusOf(const Result<T>& r) {
  if (r.has_value()) return Ok();
  return r.error();
}

TEST_F(ReaderCorruptTest, BaselineImagesAreValid) {
  EXPECT_TRUE(OpenAndExercise(*compact_).has_value());
  EXPECT_TRUE(OpenAndExercise(*extended_).has_value());
  EXPECT_TRUE(StatusOf(Reader::OpenBytes(*chunked_)).has_value());
  EXPECT_GT(extended_->size(), 8192u);
}

TEST_F(ReaderCorruptTest, TooSmall) {
  for (size_t len : {0, 1, 512, 1023, 1024, 1151}) {
    std::vector<uint8_t> img(compact_->begin(), compact_->begin() + len);
    ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kCorrupt, "too small");
  }
}

TEST_F(ReaderCorruptTest, Truncated) {
  // Cut inside block 0: the checksummed range is incomplete.
  for (size_t len : {1152, 2048, 4095}) {
    std::vector<uint8_t> img(compact_->begin(), compact_->begin() + len);
    ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kCorrupt, "checksum");
  }
  // Cut later: whatever lies past the end must be reported, not read.
  const size_t size = extended_->size();
  for (size_t len : {size_t{4096}, size_t{4097}, size / 2, size - 4096}) {
    std::vector<uint8_t> img(extended_->begin(), extended_->begin() + len);
    Status st = OpenAndExercise(img);
    ASSERT_FALSE(st.has_value()) << "length " << len;
    EXPECT_EQ(st.error().code, ErrorCode::kCorrupt) << st.error().ToString();
    const std::string& msg = st.error().context;
    EXPECT_TRUE(msg.find("past image end") != std::string::npos ||
                msg.find("exceeds the image size") != std::string::npos)
        << st.error().ToString();
  }
}

TEST_F(ReaderCorruptTest, SuperblockFields) {
  auto img = *compact_;
  Put<uint32_t>(img, kSb, 0x12345678);
  ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kCorrupt, "bad magic 0x12345678");

  img = *compact_;
  img[1500] ^= 0x55;  // block 0, after the superblock: covered by the checksum
  ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kCorrupt, "checksum mismatch");

  img = *compact_;
  Put<uint32_t>(img, kSb + 80, Get<uint32_t>(img, kSb + 80) | 0x200);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kUnsupported, "feature_incompat");

  img = *compact_;
  Put<uint32_t>(img, kSb + 80, 0x80);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kUnsupported, "48bit");

  img = *compact_;
  img[kSb + 12] = 13;
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kUnsupported, "blkszbits 13");

  img = *compact_;
  Put<uint32_t>(img, kSb + 40, 1000);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kCorrupt, "meta_blkaddr 1000");

  img = *compact_;
  Put<uint32_t>(img, kSb + 44, 0x7FFFFFFF);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kCorrupt, "xattr_blkaddr");

  img = *compact_;
  Put<uint16_t>(img, kSb + 14, static_cast<uint16_t>(Inode(img, "/a.txt").nid));
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kCorrupt, "not a directory");
}

TEST_F(ReaderCorruptTest, DeviceTable) {
  auto img = *chunked_;
  Put<uint16_t>(img, kSb + 88, 0xFFFF);  // devt_slotoff
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)), ErrorCode::kCorrupt, "device table");
}

TEST_F(ReaderCorruptTest, OutOfRangeNid) {
  auto reader = Reader::OpenBytes(*compact_);
  ASSERT_TRUE(reader.has_value());
  for (uint64_t nid :
       {uint64_t{1} << 40, std::numeric_limits<uint64_t>::max(), uint64_t{compact_->size() / 32}}) {
    ExpectError(StatusOf(reader->GetInode(nid)), ErrorCode::kOutOfRange, "nid");
  }
  auto img = *compact_;
  Put<uint64_t>(img, DirentOffset(img, "/sub", "data.bin"), uint64_t{1} << 50);
  FixChecksum(img);
  ExpectError(OpenAndExercise(img), ErrorCode::kCorrupt, "past image end");
}

TEST_F(ReaderCorruptTest, DirentNameoff) {
  for (const std::string name : {"a.txt", "."}) {
    auto img = *compact_;
    const uint64_t de = DirentOffset(img, "/", name);
    Put<uint16_t>(img, de + 8, 5000);
    FixChecksum(img);
    auto reader = Reader::OpenBytes(img);
    ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
    ExpectError(StatusOf(reader->ReadDir(reader->root_nid())), ErrorCode::kCorrupt, "nameoff 5000");
    ExpectError(StatusOf(reader->ReadDir(reader->root_nid())), ErrorCode::kCorrupt, "dirent");
  }
}

TEST_F(ReaderCorruptTest, DirentFields) {
  auto img = *compact_;
  img[DirentOffset(img, "/sub", "data.bin") + 10] = 9;
  FixChecksum(img);
  ExpectError(OpenAndExercise(img), ErrorCode::kCorrupt, "file_type 9");

  img = *compact_;
  img[DirentOffset(img, "/sub", "data.bin") + 10] = 7;  // says symlink, inode is a file
  FixChecksum(img);
  ExpectError(OpenAndExercise(img), ErrorCode::kCorrupt, "file_type 7");

  // Rename "a.txt" to "a/txt" in place: '/' is not allowed in a name.
  img = *compact_;
  const uint64_t de = DirentOffset(img, "/", "a.txt");
  img[FirstDirBlockOffset(*Reader::OpenBytes(*compact_), Inode(img, "/")) +
      Get<uint16_t>(img, de + 8) + 1] = '/';
  FixChecksum(img);
  ExpectError(OpenAndExercise(img), ErrorCode::kCorrupt, "'/'");

  // Rename "link" to "!ink": now it sorts before ".", "..", "a.txt", which precede it.
  img = *compact_;
  const uint64_t link = DirentOffset(img, "/", "link");
  img[FirstDirBlockOffset(*Reader::OpenBytes(*compact_), Inode(img, "/")) +
      Get<uint16_t>(img, link + 8)] = '!';
  FixChecksum(img);
  ExpectError(OpenAndExercise(img), ErrorCode::kCorrupt, "not after");
}

TEST_F(ReaderCorruptTest, DirectoryLoop) {
  auto img = *compact_;
  const uint64_t sub = Inode(img, "/sub").nid;
  Put<uint64_t>(img, DirentOffset(img, "/sub", "inner"), sub);
  FixChecksum(img);
  ExpectError(OpenAndExercise(img), ErrorCode::kCorrupt, "loop");
}

TEST_F(ReaderCorruptTest, WrongDotAndDotDot) {
  auto img = *compact_;
  const uint64_t sub = Inode(img, "/sub").nid;
  Put<uint64_t>(img, DirentOffset(img, "/sub/inner", ".."), Inode(img, "/sub/inner").nid);
  FixChecksum(img);
  ExpectError(OpenAndExercise(img), ErrorCode::kCorrupt, "'..'");

  img = *compact_;
  Put<uint64_t>(img, DirentOffset(img, "/sub/inner", "."), sub);
  FixChecksum(img);
  ExpectError(OpenAndExercise(img), ErrorCode::kCorrupt, "'.'");
}

TEST_F(ReaderCorruptTest, HugeSizes) {
  // Compact inodes hold a 32-bit size, extended ones 64 bits.
  for (const auto* base : {compact_, extended_}) {
    for (const std::string path : {"/sub", "/sub/data.bin", "/a.txt"}) {
      SCOPED_TRACE(path);
      auto img = *base;
      const InodeInfo inode = Inode(img, path);
      if (inode.extended) {
        Put<uint64_t>(img, inode.inode_offset + kSizeOff, uint64_t{1} << 60);
      } else {
        Put<uint32_t>(img, inode.inode_offset + kSizeOff, 0xFFFFFFFF);
      }
      FixChecksum(img);
      auto reader = Reader::OpenBytes(img);
      ASSERT_TRUE(reader.has_value());
      ExpectError(StatusOf(reader->GetInode(inode.nid)), ErrorCode::kCorrupt, "i_size");
      ExpectError(StatusOf(reader->ReadDir(inode.nid)), ErrorCode::kCorrupt, "i_size");
    }
  }
  auto img = *chunked_;
  const InodeInfo file = Inode(img, "/sub/data.bin");
  Put<uint32_t>(img, file.inode_offset + kSizeOff, 0xFFFFFFFF);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->GetChunkMap(file.nid)), ErrorCode::kCorrupt,
              "chunk index array");
}

TEST_F(ReaderCorruptTest, DataOutsideImage) {
  auto img = *extended_;
  const InodeInfo file = Inode(img, "/sub/data.bin");
  Put<uint32_t>(img, file.inode_offset + kIuOff, 100000);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->GetInode(file.nid)), ErrorCode::kCorrupt,
              "past image end");

  img = *compact_;
  const InodeInfo a = Inode(img, "/a.txt");  // inline: the tail would cross the block
  ASSERT_EQ(a.layout, DataLayout::kFlatInline);
  Put<uint32_t>(img, a.inode_offset + kSizeOff, 4000);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->GetInode(a.nid)), ErrorCode::kCorrupt,
              "crosses the block");

  img = *compact_;
  const InodeInfo link = Inode(img, "/link");
  Put<uint32_t>(img, link.inode_offset + kSizeOff, 5000);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->ReadLink(link.nid)), ErrorCode::kCorrupt,
              "symlink i_size 5000");
}

TEST_F(ReaderCorruptTest, Xattrs) {
  auto img = *compact_;
  const InodeInfo a = Inode(img, "/a.txt");
  ASSERT_GT(a.xattr_size, 0u);
  Put<uint16_t>(img, a.inode_offset + kIcountOff, 0xFFFF);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->GetInode(a.nid)), ErrorCode::kCorrupt, "xattr area");

  const uint64_t area = a.inode_offset + a.inode_size;
  img = *compact_;
  img[area + 4] = 200;  // h_shared_count
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->ListXattrs(a.nid)), ErrorCode::kCorrupt,
              "h_shared_count 200");

  img = *compact_;
  img[area + 12 + 1] = 9;  // e_name_index of the first inline entry
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->ListXattrs(a.nid)), ErrorCode::kCorrupt,
              "e_name_index 9");

  img = *compact_;
  Put<uint16_t>(img, area + 12 + 2, 0xFFFF);  // e_value_size
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->ListXattrs(a.nid)), ErrorCode::kCorrupt,
              "run past the end");
}

TEST_F(ReaderCorruptTest, ChunkIndexes) {
  auto img = *chunked_;
  const InodeInfo file = Inode(img, "/sub/data.bin");
  ASSERT_EQ(file.layout, DataLayout::kChunkBased);
  const uint64_t index0 = (file.inode_offset + file.inode_size + file.xattr_size + 7) / 8 * 8;
  // Nydus keeps other data in the high byte of device_id: masked away (extra_devices 1).
  Put<uint16_t>(img, index0 + 2, 0x2301);
  FixChecksum(img);
  auto map = Reader::OpenBytes(img)->GetChunkMap(file.nid);
  ASSERT_TRUE(map.has_value()) << map.error().ToString();
  EXPECT_EQ(map->chunks[0].device_id, 1);

  // Two devices: mask 3, so id 3 survives masking and is beyond the table.
  img = *chunked_;
  Put<uint16_t>(img, kSb + 86, 2);
  Put<uint16_t>(img, index0 + 2, 3);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->GetChunkMap(file.nid)), ErrorCode::kCorrupt,
              "device_id 3");

  img = *chunked_;
  Put<uint32_t>(img, file.inode_offset + kIuOff, file.raw_blkaddr | 0x40);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->GetChunkMap(file.nid)), ErrorCode::kUnsupported,
              "48-bit");

  img = *chunked_;
  Put<uint32_t>(img, file.inode_offset + kIuOff, file.raw_blkaddr | 0x80);
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->GetChunkMap(file.nid)), ErrorCode::kCorrupt,
              "chunk format");
}

TEST_F(ReaderCorruptTest, InodeFormat) {
  const InodeInfo a = Inode(*compact_, "/a.txt");
  const struct {
    uint16_t format;
    ErrorCode code;
    const char* needle;
  } cases[] = {
      {uint16_t(1 << 1), ErrorCode::kUnsupported, "compressed"},
      {uint16_t(3 << 1), ErrorCode::kUnsupported, "compressed"},
      {uint16_t(5 << 1), ErrorCode::kCorrupt, "invalid data layout 5"},
      {uint16_t(7 << 1), ErrorCode::kCorrupt, "invalid data layout 7"},
      {uint16_t(0x10 | (2 << 1)), ErrorCode::kUnsupported, "unknown bits"},
  };
  for (const auto& c : cases) {
    auto img = *compact_;
    Put<uint16_t>(img, a.inode_offset + kFormatOff, c.format);
    FixChecksum(img);
    ExpectError(StatusOf(Reader::OpenBytes(img)->GetInode(a.nid)), c.code, c.needle);
  }
  auto img = *compact_;
  Put<uint16_t>(img, a.inode_offset + 4, 0170644);  // i_mode with file type bits 017
  FixChecksum(img);
  ExpectError(StatusOf(Reader::OpenBytes(img)->GetInode(a.nid)), ErrorCode::kCorrupt,
              "unknown file type");
}

}  // namespace
}  // namespace tessera::erofs
