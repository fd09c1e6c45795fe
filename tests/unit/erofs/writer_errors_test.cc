// WriteImage on invalid trees and options (errors name the path and field), and streaming of
// a file larger than 4 GiB through bounded reads.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "unit/erofs/writer_test_util.h"

#include "tessera/erofs/writer.h"

namespace tessera::erofs {
namespace {

using testutil::FileNode;
using testutil::WriteToMemory;

// Writes `tree` and expects an error whose context mentions every string in `needles`.
void ExpectError(const Tree& tree, const WriterOptions& opts,
                 const std::vector<std::string>& needles) {
  auto image = WriteToMemory(tree, opts);
  ASSERT_FALSE(image.has_value());
  for (const auto& n : needles) {
    EXPECT_NE(image.error().context.find(n), std::string::npos)
        << "missing '" << n << "' in: " << image.error().ToString();
  }
}

Tree TreeWith(const std::string& name, Node node) {
  Tree tree;
  const NodeId d = tree.AddNode(testutil::DirNode());
  EXPECT_TRUE(tree.Link(0, "d", d));
  EXPECT_TRUE(tree.Link(d, name, tree.AddNode(std::move(node))));
  return tree;
}

Node Chunked(uint64_t size, uint8_t bits, std::vector<ChunkRef> chunks) {
  Node n;
  n.mode = S_IFREG | 0644;
  n.size = size;
  n.chunked = ChunkedData{bits, std::move(chunks)};
  return n;
}

TEST(WriterErrorsTest, ChunkCountMustMatchSize) {
  ExpectError(TreeWith("c", Chunked(8193, 0, {{0, 1}, {0, 2}})), {},
              {"/d/c", "chunk count 2 != 3"});
}

TEST(WriterErrorsTest, ChunkDeviceNeedsASlot) {
  WriterOptions opts;
  opts.devices = {{"blob", 1, 0}};
  ExpectError(TreeWith("c", Chunked(10, 0, {{2, 0}})), opts, {"/d/c", "device_id 2"});
  EXPECT_TRUE(WriteToMemory(TreeWith("c", Chunked(10, 0, {{1, 0}})), opts).has_value());
}

TEST(WriterErrorsTest, SymlinkTargets) {
  ExpectError(TreeWith("l", testutil::SymlinkNode("")), {}, {"/d/l", "symlink target"});
  ExpectError(TreeWith("l", testutil::SymlinkNode(std::string(4096, 'x'))), {}, {"/d/l"});
  EXPECT_TRUE(
      WriteToMemory(TreeWith("l", testutil::SymlinkNode(std::string(4095, 'x')))).has_value());
}

TEST(WriterErrorsTest, RegularFileContentMismatch) {
  Node short_source = FileNode("abc");
  short_source.size = 10;
  ExpectError(TreeWith("f", short_source), {}, {"/d/f", "less than size 10"});
  Node no_source;
  no_source.mode = S_IFREG | 0644;
  no_source.size = 5;
  ExpectError(TreeWith("f", no_source), {}, {"/d/f", "no data source"});
  Node both = Chunked(3, 0, {{0, 0}});
  both.data = FileNode("abc").data;
  ExpectError(TreeWith("f", both), {}, {"/d/f", "both data and chunks"});
  Node fifo_with_data = FileNode("abc");
  fifo_with_data.mode = S_IFIFO | 0644;
  ExpectError(TreeWith("p", fifo_with_data), {}, {"/d/p", "non-regular"});
}

TEST(WriterErrorsTest, BadModesAndDevices) {
  Node typeless;
  typeless.mode = 0644;
  ExpectError(TreeWith("x", typeless), {}, {"/d/x", "file type"});
  Node dev;
  dev.mode = S_IFCHR | 0600;
  dev.rdev = makedev(5000, 1);
  ExpectError(TreeWith("dev", dev), {}, {"/d/dev", "5000:1"});
  Node nsec = FileNode("");
  nsec.mtime_nsec = 1000000000;
  ExpectError(TreeWith("t", nsec), {}, {"/d/t", "mtime_nsec"});
}

TEST(WriterErrorsTest, TreeStructureEditedBehindTheApi) {
  Tree twice;
  const NodeId d = twice.AddNode(testutil::DirNode());
  twice.node(0).entries["a"] = d;
  twice.node(0).entries["b"] = d;
  ExpectError(twice, {}, {"/b", "already linked at /a"});
  Tree slash;
  slash.node(0).entries["a/b"] = slash.AddNode(FileNode(""));
  ExpectError(slash, {}, {"invalid entry name"});
  Tree dangling;
  dangling.node(0).entries["x"] = 99;
  ExpectError(dangling, {}, {"/x", "out of range"});
}

TEST(WriterErrorsTest, BadOptions) {
  Tree tree;
  WriterOptions label;
  label.volume_name = std::string(16, 'x');
  ExpectError(tree, label, {"volume_name"});
  WriterOptions ext;
  ext.sb_extension_size = 100;
  ExpectError(tree, ext, {"sb_extension_size"});
  WriterOptions tag;
  tag.devices = {{std::string(65, 't'), 1, 0}};
  ExpectError(tree, tag, {"devices[0]", "tag"});
}

class FailingSource final : public ByteSource {
 public:
  uint64_t Size() const override { return 3 << 20; }
  Status ReadAt(uint64_t offset, std::span<uint8_t>) const override {
    if (offset >= (2 << 20)) return MakeError(ErrorCode::kIo, "disk on fire");
    return Ok();
  }
};

TEST(WriterErrorsTest, SourceReadFailureNamesPathAndOffset) {
  Node f;
  f.mode = S_IFREG | 0644;
  f.size = 3 << 20;
  f.data = std::make_shared<FailingSource>();
  ExpectError(TreeWith("f", f), {}, {"/d/f", "offset 2097152", "disk on fire"});
}

// A periodic pattern (period not a multiple of the block size) so misplaced blocks show.
constexpr size_t kPeriod = 4093;

class PatternSource final : public ByteSource {
 public:
  explicit PatternSource(uint64_t size) : size_(size), pattern_(kPeriod + (1 << 20)) {
    for (size_t i = 0; i < pattern_.size(); ++i) pattern_[i] = static_cast<uint8_t>(i % kPeriod);
  }
  uint64_t Size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    if (offset + out.size() > size_ || out.size() > (1u << 20)) {
      return MakeError(ErrorCode::kOutOfRange, "pattern");
    }
    uint64_t prev = max_read_.load();
    while (out.size() > prev && !max_read_.compare_exchange_weak(prev, out.size())) {
    }
    std::memcpy(out.data(), pattern_.data() + offset % kPeriod, out.size());
    return Ok();
  }
  uint64_t max_read() const { return max_read_.load(); }
  const uint8_t* at(uint64_t offset) const { return pattern_.data() + offset % kPeriod; }

 private:
  uint64_t size_;
  std::vector<uint8_t> pattern_;
  mutable std::atomic<uint64_t> max_read_{0};
};

// Keeps the first `keep` bytes; checks every byte from `data_start` on against the pattern.
class CheckingSink final : public ByteSink {
 public:
  CheckingSink(const PatternSource& src, uint64_t data_start, uint64_t data_len)
      : src_(src), data_start_(data_start), data_len_(data_len) {}
  Status Write(std::span<const uint8_t> data) override {
    const uint64_t end = pos_ + data.size();
    if (pos_ < kKeep)
      head_.insert(head_.end(), data.begin(),
                   data.begin() + static_cast<long>(std::min<uint64_t>(data.size(), kKeep - pos_)));
    const uint64_t lo = std::max(pos_, data_start_), hi = std::min(end, data_start_ + data_len_);
    for (uint64_t p = lo; p < hi;) {  // compare in pieces that stay inside one pattern copy
      const uint64_t n = std::min<uint64_t>(hi - p, 1 << 20);
      if (std::memcmp(data.data() + (p - pos_), src_.at(p - data_start_), n) != 0) ++mismatches_;
      p += n;
    }
    pos_ = end;
    return Ok();
  }
  uint64_t Position() const override { return pos_; }
  const std::vector<uint8_t>& head() const { return head_; }
  uint64_t mismatches() const { return mismatches_; }

 private:
  static constexpr uint64_t kKeep = 64 << 10;
  const PatternSource& src_;
  uint64_t data_start_, data_len_;
  uint64_t pos_ = 0;
  uint64_t mismatches_ = 0;
  std::vector<uint8_t> head_;
};

TEST(WriterStreamTest, FileLargerThan4GiBStreamsInBoundedPieces) {
  const uint64_t size = (uint64_t{4} << 30) + 5000;
  auto source = std::make_shared<PatternSource>(size);
  Tree tree;
  Node f;
  f.mode = S_IFREG | 0644;
  f.size = size;
  f.data = source;
  ASSERT_TRUE(tree.Link(0, "big", tree.AddNode(f)));
  const uint64_t tail = size % kBlockSize;
  CheckingSink sink(*source, 2 * kBlockSize, size - tail);  // data area starts at block 2
  auto stats = WriteImage(tree, {}, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  EXPECT_EQ(sink.mismatches(), 0u);
  EXPECT_LE(source->max_read(), 1u << 20);
  EXPECT_EQ(stats->data_bytes, size);
  EXPECT_EQ(sink.Position(), stats->image_size);
  const std::vector<uint8_t>& head = sink.head();
  const uint64_t nid = testutil::LookupNid(head, 128, "big");
  const testutil::InodeView v = testutil::DecodeInode(head, nid);
  EXPECT_TRUE(v.extended);
  EXPECT_EQ(v.size, size);
  EXPECT_EQ(v.u, 2u);
  EXPECT_EQ(v.layout, DataLayout::kFlatInline);
  ASSERT_LE(v.body_end() + tail, head.size());
  EXPECT_EQ(0, std::memcmp(head.data() + v.body_end(), source->at(size - tail), tail));
}

}  // namespace
}  // namespace tessera::erofs
