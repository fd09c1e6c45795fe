// Test-only helpers for the EROFS writer tests: write a tree to memory and decode the bytes
// independently of erofs::Reader (straight from shared/erofs-format.md), so writer tests do
// not depend on the reader being right.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/erofs/format.h"
#include "tessera/erofs/tree.h"
#include "tessera/erofs/writer.h"

namespace tessera::erofs::testutil {

struct Image {
  std::vector<uint8_t> bytes;
  WriteStats stats;
};

inline Result<Image> WriteToMemory(const Tree& tree, const WriterOptions& options = {}) {
  VectorSink sink;
  TRY(WriteStats stats, WriteImage(tree, options, sink));
  return Image{std::move(sink.data()), stats};
}

template <typename T>
T Load(const std::vector<uint8_t>& bytes, uint64_t offset) {
  T v{};
  if (offset + sizeof(T) <= bytes.size()) std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

inline SuperBlock Sb(const std::vector<uint8_t>& bytes) {
  return Load<SuperBlock>(bytes, kSuperblockOffset);
}

// Decoded inode (either version).
struct InodeView {
  uint64_t offset = 0;
  bool extended = false;
  DataLayout layout = DataLayout::kFlatPlain;
  uint16_t format = 0;
  uint16_t icount = 0;
  uint16_t mode = 0;
  uint32_t nlink = 0;
  uint64_t size = 0;
  uint32_t u = 0;
  uint32_t ino = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t mtime = 0;
  uint32_t mtime_nsec = 0;
  uint32_t isize = 0;
  uint32_t xattr_size() const { return icount == 0 ? 0 : 12 + 4 * (icount - 1u); }
  uint64_t body_end() const { return offset + isize + xattr_size(); }
};

inline InodeView DecodeInode(const std::vector<uint8_t>& bytes, uint64_t nid) {
  const SuperBlock sb = Sb(bytes);
  InodeView v;
  v.offset = uint64_t{sb.meta_blkaddr} * kBlockSize + nid * 32;
  const auto c = Load<InodeCompact>(bytes, v.offset);
  v.format = c.i_format;
  v.extended = c.i_format & 1;
  v.layout = static_cast<DataLayout>((c.i_format >> 1) & 7);
  if (v.extended) {
    const auto e = Load<InodeExtended>(bytes, v.offset);
    v.icount = e.i_xattr_icount;
    v.mode = e.i_mode;
    v.nlink = e.i_nlink;
    v.size = e.i_size;
    v.u = e.i_u;
    v.ino = e.i_ino;
    v.uid = e.i_uid;
    v.gid = e.i_gid;
    v.mtime = e.i_mtime;
    v.mtime_nsec = e.i_mtime_nsec;
    v.isize = 64;
  } else {
    v.icount = c.i_xattr_icount;
    v.mode = c.i_mode;
    v.nlink = c.i_nlink;
    v.size = c.i_size;
    v.u = c.i_u;
    v.ino = c.i_ino;
    v.uid = c.i_uid;
    v.gid = c.i_gid;
    v.mtime = sb.build_time;
    v.mtime_nsec = sb.build_time_nsec;
    v.isize = 32;
  }
  return v;
}

// The bytes of a FLAT_PLAIN / FLAT_INLINE inode's data.
inline std::vector<uint8_t> FlatData(const std::vector<uint8_t>& bytes, const InodeView& v) {
  std::vector<uint8_t> out(v.size);
  if (v.size == 0) return out;
  uint64_t plain_len = v.size;
  if (v.layout == DataLayout::kFlatInline) plain_len = v.size / kBlockSize * kBlockSize;
  const uint64_t plain_off = uint64_t{v.u} * kBlockSize;
  if (plain_len > 0 && plain_off + plain_len <= bytes.size()) {
    std::memcpy(out.data(), bytes.data() + plain_off, plain_len);
  }
  const uint64_t tail = v.size - plain_len;
  if (tail > 0 && v.body_end() + tail <= bytes.size()) {
    std::memcpy(out.data() + plain_len, bytes.data() + v.body_end(), tail);
  }
  return out;
}

struct DirentView {
  std::string name;
  uint64_t nid = 0;
  uint8_t type = 0;
  size_t block = 0;
};

// All dirents of a directory inode, decoded per §5.
inline std::vector<DirentView> DecodeDir(const std::vector<uint8_t>& bytes, uint64_t nid) {
  const InodeView v = DecodeInode(bytes, nid);
  const std::vector<uint8_t> data = FlatData(bytes, v);
  std::vector<DirentView> out;
  for (size_t blk = 0; blk * kBlockSize < data.size(); ++blk) {
    const size_t base = blk * kBlockSize;
    const size_t end = std::min<size_t>(data.size(), base + kBlockSize);
    Dirent first{};
    std::memcpy(&first, data.data() + base, sizeof(first));
    const size_t count = first.nameoff / sizeof(Dirent);
    for (size_t i = 0; i < count; ++i) {
      Dirent d{};
      std::memcpy(&d, data.data() + base + i * sizeof(Dirent), sizeof(d));
      size_t name_end;
      if (i + 1 < count) {
        Dirent next{};
        std::memcpy(&next, data.data() + base + (i + 1) * sizeof(Dirent), sizeof(next));
        name_end = base + next.nameoff;
      } else {
        name_end = base + d.nameoff;
        while (name_end < end && data[name_end] != 0) ++name_end;
      }
      out.push_back({std::string(reinterpret_cast<const char*>(data.data()) + base + d.nameoff,
                                 name_end - base - d.nameoff),
                     d.nid, d.file_type, blk});
    }
  }
  return out;
}

inline uint64_t LookupNid(const std::vector<uint8_t>& bytes, uint64_t dir_nid,
                          const std::string& name) {
  for (const DirentView& d : DecodeDir(bytes, dir_nid)) {
    if (d.name == name) return d.nid;
  }
  return ~uint64_t{0};
}

// Node helpers.
inline Node FileNode(std::string content, uint32_t mode = 0644) {
  Node n;
  n.mode = S_IFREG | mode;
  n.size = content.size();
  if (!content.empty()) {
    n.data = std::make_shared<MemorySource>(std::vector<uint8_t>(content.begin(), content.end()));
  }
  return n;
}

inline Node DirNode(uint32_t mode = 0755) {
  Node n;
  n.mode = S_IFDIR | mode;
  return n;
}

inline Node SymlinkNode(std::string target) {
  Node n;
  n.mode = S_IFLNK | 0777;
  n.symlink_target = std::move(target);
  return n;
}

}  // namespace tessera::erofs::testutil
