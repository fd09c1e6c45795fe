// Chunk-based regular files (§2.4 chunk format, §3 index array).
#include <cstdint>
#include <string>

#include "reader_state.h"

#include "tessera/erofs/format.h"

namespace tessera::erofs::internal {
namespace {

constexpr uint32_t kChunkFormatKnown = kChunkFormatBlkbitsMask | kChunkFormatIndexes;
// ChunkMap::chunk_size is 32-bit: refuse chunks of 4 GiB and more.
constexpr uint32_t kMaxChunkSizeBits = 31;

}  // namespace

Result<ChunkLayout> GetChunkLayout(const Image& image, const InodeInfo& inode) {
  const std::string where = Cat("nid ", inode.nid, ": ");
  if (inode.layout != DataLayout::kChunkBased) {
    return MakeError(ErrorCode::kInvalidArgument,
                     Cat(where, "not chunk-based (layout ", LayoutName(inode.layout), ")"));
  }
  const uint32_t format = inode.raw_blkaddr;
  if (format & kChunkFormat48Bit) {
    return Unsupported(
        Cat(where, "chunk format ", Hex(format), ": 48-bit chunk indexes are ", "not supported"));
  }
  if ((format & ~kChunkFormatKnown) != 0) {
    return Corrupt(Cat(where, "chunk format ", Hex(format), " has invalid bits ",
                       Hex(format & ~kChunkFormatKnown)));
  }
  const uint32_t chunk_bits = image.blkszbits + (format & kChunkFormatBlkbitsMask);
  if (chunk_bits > kMaxChunkSizeBits) {
    return Unsupported(Cat(where, "chunk format ", Hex(format), ": chunk size 2^", chunk_bits,
                           " bytes is too large"));
  }
  ChunkLayout layout;
  layout.chunk_size = uint64_t{1} << chunk_bits;
  layout.indexes = (format & kChunkFormatIndexes) != 0;
  layout.count = DivRoundUp(inode.size, layout.chunk_size);
  const uint64_t unit = layout.indexes ? sizeof(ChunkIndex) : sizeof(uint32_t);
  // §3: the array starts at the next multiple of `unit` after the inode and its xattrs.
  const uint64_t after = inode.inode_offset + inode.inode_size + inode.xattr_size;
  layout.array_offset = DivRoundUp(after, unit) * unit;
  if (layout.count > image.size() / unit ||
      !image.Contains(layout.array_offset, layout.count * unit)) {
    return Corrupt(Cat(where, "chunk index array (i_size ", inode.size, ", ", layout.count,
                       " chunks of ", layout.chunk_size, " bytes at byte ", layout.array_offset,
                       ") past image end (", image.size(), " bytes)"));
  }
  return layout;
}

Result<ChunkRef> ReadChunkRef(const Image& image, const InodeInfo& inode, const ChunkLayout& layout,
                              uint64_t index) {
  if (index >= layout.count) {
    return MakeError(ErrorCode::kOutOfRange, Cat("nid ", inode.nid, ": chunk ", index,
                                                 " beyond chunk count ", layout.count));
  }
  ChunkRef ref;
  if (!layout.indexes) {
    // 4-byte block map: the device is always the primary one.
    ref.blkaddr = LoadAt<uint32_t>(image.bytes, layout.array_offset + index * sizeof(uint32_t));
    return ref;
  }
  const auto entry = LoadAt<ChunkIndex>(image.bytes, layout.array_offset + index * 8);
  ref.blkaddr = entry.blkaddr;
  // As the kernel does: only the low bits that can name a device count (Nydus keeps other data
  // in the high byte).
  ref.device_id = entry.device_id & image.device_id_mask;
  if (ref.device_id > image.sb.extra_devices) {
    return Corrupt(Cat("nid ", inode.nid, ": chunk ", index, ": device_id ", entry.device_id,
                       " (masked ", ref.device_id, ") beyond the device table (extra_devices ",
                       image.sb.extra_devices, ")"));
  }
  return ref;
}

}  // namespace tessera::erofs::internal
