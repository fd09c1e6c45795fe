// Private state and helpers of erofs::Reader, shared by the reader_*.cc files.
//
// internal::Image is the validated view of one image: its bytes, the decoded superblock and the
// device table. Every helper here takes the Image and checks each offset it derives from image
// bytes against image.size() before touching memory. Section numbers (§) refer to
// shared/erofs-format.md.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/format.h"
#include "tessera/erofs/reader.h"

namespace tessera::erofs::internal {

// Deepest directory nesting Walk accepts (Linux paths stop at PATH_MAX = 4096 bytes anyway).
inline constexpr size_t kMaxWalkDepth = 2048;
// Longest symlink target (the kernel refuses i_size >= PAGE_SIZE for symlinks).
inline constexpr uint64_t kMaxSymlinkSize = 4095;

// Concatenates its arguments with operator<< (error messages only).
template <typename... Args>
std::string Cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

// "0x1f"
std::string Hex(uint64_t value);

inline Error Corrupt(std::string context) {
  return MakeError(ErrorCode::kCorrupt, std::move(context));
}
inline Error Unsupported(std::string context) {
  return MakeError(ErrorCode::kUnsupported, std::move(context));
}

// Copies a packed on-disk struct out of `bytes` at `offset`. The caller has checked that
// offset + sizeof(T) <= bytes.size().
template <typename T>
T LoadAt(std::span<const uint8_t> bytes, uint64_t offset) {
  T value;
  // SAFETY: T is a packed struct of fixed-width integers (format.h), so every bit pattern is a
  // valid value; memcpy avoids unaligned access; the caller bounds-checked the range.
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// True if [offset, offset + length) lies inside a container of `size` bytes (overflow-safe).
inline bool RangeInside(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

inline uint64_t DivRoundUp(uint64_t value, uint64_t unit) {
  return value / unit + (value % unit != 0 ? 1 : 0);
}

std::string_view LayoutName(DataLayout layout);

struct Image {
  std::span<const uint8_t> bytes;
  SuperBlockInfo sb;
  std::vector<DeviceEntry> devices;
  uint32_t blkszbits = kBlockSizeBits;
  uint32_t blksz = kBlockSize;
  uint64_t meta_base = 0;       // meta_blkaddr * blksz
  uint16_t device_id_mask = 0;  // next_pow2(extra_devices + 1) - 1, as the kernel masks ids

  uint64_t size() const { return bytes.size(); }
  bool Contains(uint64_t offset, uint64_t length) const {
    return RangeInside(offset, length, bytes.size());
  }
  // bytes[offset, offset + length), or kCorrupt naming `what` if it leaves the image.
  Result<std::span<const uint8_t>> Slice(uint64_t offset, uint64_t length,
                                         std::string_view what) const;
};

// reader_super.cc: validates the superblock (§1) and the device table (§4).
Result<Image> ParseImage(std::span<const uint8_t> bytes);

// reader_inode.cc: decodes and validates inode `nid` (§2), including where its data lives.
Result<InodeInfo> ReadInode(const Image& image, uint64_t nid);
// Byte offset of inode `nid`, or kOutOfRange if no 32-byte slot fits there.
Result<uint64_t> InodeOffset(const Image& image, uint64_t nid);

// reader_chunk.cc: chunk-based layout (§3).
struct ChunkLayout {
  uint64_t chunk_size = 0;
  bool indexes = false;       // 8-byte chunk indexes; else 4-byte block map
  uint64_t count = 0;         // ceil(i_size / chunk_size)
  uint64_t array_offset = 0;  // byte offset of entry 0 in the image
};
Result<ChunkLayout> GetChunkLayout(const Image& image, const InodeInfo& inode);
// Entry i (i < layout.count) with its device id masked and checked against the device table.
Result<ChunkRef> ReadChunkRef(const Image& image, const InodeInfo& inode, const ChunkLayout& layout,
                              uint64_t index);

// reader_data.cc: file data.
// Block `index` of a directory or symlink, read from the image itself: min(blksz, size - start).
Result<std::span<const uint8_t>> MetaDataBlock(const Image& image, const InodeInfo& inode,
                                               uint64_t index);
Result<size_t> ReadData(const Image& image, const InodeInfo& inode, uint64_t offset,
                        std::span<uint8_t> out, std::span<const ByteSource* const> devices);

// reader_dir.cc: directories (§5).
Result<std::vector<DirEntry>> ReadDirectory(const Image& image, const InodeInfo& dir);
Result<DirEntry> LookupName(const Image& image, const InodeInfo& dir, std::string_view name);

// reader_xattr.cc: extended attributes (§6).
Result<std::vector<Xattr>> ReadXattrs(const Image& image, const InodeInfo& inode);

// reader_walk.cc
using WalkVisitor =
    std::function<Status(const std::string& path, const DirEntry& entry, const InodeInfo& inode)>;
Status WalkTree(const Image& image, const WalkVisitor& visit);

}  // namespace tessera::erofs::internal
