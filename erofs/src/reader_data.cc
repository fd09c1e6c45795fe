// File data: FLAT_PLAIN, FLAT_INLINE (§2.3) and CHUNK_BASED (§3) reads.
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "reader_state.h"

#include "tessera/erofs/format.h"

namespace tessera::erofs::internal {
namespace {

uint64_t TailOffset(const InodeInfo& inode) {
  return inode.inode_offset + inode.inode_size + inode.xattr_size;
}

Status CopyFromImage(const Image& image, uint64_t offset, std::span<uint8_t> out,
                     const std::string& what) {
  TRY(auto bytes, image.Slice(offset, out.size(), what));
  std::memcpy(out.data(), bytes.data(), out.size());
  return Ok();
}

// Device 0 with devices given: a block inside a slot's unified range [mapped, mapped + blocks)
// belongs to that device (§4). Returns 0 when the block is in the primary image.
uint16_t UnifiedDevice(const Image& image, uint32_t blkaddr, uint32_t* device_blkaddr) {
  for (size_t i = 0; i < image.devices.size(); ++i) {
    const DeviceEntry& dev = image.devices[i];
    if (dev.mapped_blkaddr == 0 || blkaddr < dev.mapped_blkaddr) continue;
    if (uint64_t{blkaddr} - dev.mapped_blkaddr >= dev.blocks) continue;
    *device_blkaddr = blkaddr - dev.mapped_blkaddr;
    return static_cast<uint16_t>(i + 1);
  }
  return 0;
}

Status ReadChunkPiece(const Image& image, const InodeInfo& inode, uint64_t index, ChunkRef ref,
                      uint64_t within, std::span<uint8_t> out,
                      std::span<const ByteSource* const> devices) {
  uint16_t device = ref.device_id;
  uint32_t blkaddr = ref.blkaddr;
  if (device == 0 && !devices.empty()) device = UnifiedDevice(image, ref.blkaddr, &blkaddr);
  const uint64_t offset = (uint64_t{blkaddr} << image.blkszbits) + within;
  const std::string where =
      Cat("nid ", inode.nid, ": chunk ", index, " (device ", device, ", blkaddr ", blkaddr, ")");
  if (device == 0) return CopyFromImage(image, offset, out, where);
  if (device > devices.size() || devices[device - 1] == nullptr) {
    const std::string& tag = image.devices[device - 1].tag;
    return MakeError(
        ErrorCode::kUnavailable,
        Cat(where, ": device ", device, tag.empty() ? "" : " (" + tag + ")", " was not provided"));
  }
  Status status = devices[device - 1]->ReadAt(offset, out);
  if (!status)
    return status.error().Wrap(Cat(where, ": reading ", out.size(), " bytes at ", offset));
  return Ok();
}

Status ReadChunked(const Image& image, const InodeInfo& inode, uint64_t offset,
                   std::span<uint8_t> out, std::span<const ByteSource* const> devices) {
  TRY(const ChunkLayout layout, GetChunkLayout(image, inode));
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t pos = offset + done;
    const uint64_t index = pos / layout.chunk_size;
    const uint64_t within = pos % layout.chunk_size;
    const size_t len =
        static_cast<size_t>(std::min<uint64_t>(out.size() - done, layout.chunk_size - within));
    TRY(const ChunkRef ref, ReadChunkRef(image, inode, layout, index));
    auto piece = out.subspan(done, len);
    if (ref.blkaddr == kNullAddr) {
      std::fill(piece.begin(), piece.end(), uint8_t{0});  // a hole
    } else {
      RETURN_IF_ERROR(ReadChunkPiece(image, inode, index, ref, within, piece, devices));
    }
    done += len;
  }
  return Ok();
}

Status ReadInline(const Image& image, const InodeInfo& inode, uint64_t offset,
                  std::span<uint8_t> out) {
  const uint64_t boundary = ((inode.size - 1) >> image.blkszbits) << image.blkszbits;
  const std::string where = Cat("nid ", inode.nid, ": data");
  size_t done = 0;
  if (offset < boundary) {
    done = static_cast<size_t>(std::min<uint64_t>(out.size(), boundary - offset));
    const uint64_t start = (uint64_t{inode.raw_blkaddr} << image.blkszbits) + offset;
    RETURN_IF_ERROR(CopyFromImage(image, start, out.first(done), where));
  }
  if (done == out.size()) return Ok();
  const uint64_t tail_pos = offset + done - boundary;
  return CopyFromImage(image, TailOffset(inode) + tail_pos, out.subspan(done),
                       Cat("nid ", inode.nid, ": inline tail"));
}

}  // namespace

Result<std::span<const uint8_t>> MetaDataBlock(const Image& image, const InodeInfo& inode,
                                               uint64_t index) {
  const std::string where = Cat("nid ", inode.nid, ": block ", index);
  if (index > ((inode.size - 1) >> image.blkszbits) || inode.size == 0) {
    return MakeError(ErrorCode::kOutOfRange, Cat(where, " beyond i_size ", inode.size));
  }
  const uint64_t start = index << image.blkszbits;
  const uint64_t len = std::min<uint64_t>(image.blksz, inode.size - start);
  switch (inode.layout) {
    case DataLayout::kFlatPlain:
      return image.Slice((uint64_t{inode.raw_blkaddr} << image.blkszbits) + start, len, where);
    case DataLayout::kFlatInline:
      if (index == (inode.size - 1) >> image.blkszbits) {
        return image.Slice(TailOffset(inode), len, Cat(where, " (inline tail)"));
      }
      return image.Slice((uint64_t{inode.raw_blkaddr} << image.blkszbits) + start, len, where);
    case DataLayout::kChunkBased: {
      TRY(const ChunkLayout layout, GetChunkLayout(image, inode));
      TRY(const ChunkRef ref, ReadChunkRef(image, inode, layout, start / layout.chunk_size));
      if (ref.device_id != 0) {
        return Unsupported(Cat(where, ": directory or symlink data on device ", ref.device_id));
      }
      if (ref.blkaddr == kNullAddr) return Corrupt(Cat(where, ": directory data in a hole"));
      const uint64_t offset =
          (uint64_t{ref.blkaddr} << image.blkszbits) + start % layout.chunk_size;
      return image.Slice(offset, len, where);
    }
    default:
      return Unsupported(Cat(where, ": layout ", LayoutName(inode.layout)));
  }
}

Result<size_t> ReadData(const Image& image, const InodeInfo& inode, uint64_t offset,
                        std::span<uint8_t> out, std::span<const ByteSource* const> devices) {
  if (!S_ISREG(inode.mode) && !S_ISLNK(inode.mode)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     Cat("nid ", inode.nid, ": not a regular file or symlink (mode 0", std::oct,
                         inode.mode, ")"));
  }
  if (offset >= inode.size || out.empty()) return size_t{0};
  const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), inode.size - offset));
  out = out.first(n);
  switch (inode.layout) {
    case DataLayout::kFlatPlain:
      if (inode.raw_blkaddr == kNullAddr) {
        std::fill(out.begin(), out.end(), uint8_t{0});
        return n;
      }
      RETURN_IF_ERROR(CopyFromImage(image,
                                    (uint64_t{inode.raw_blkaddr} << image.blkszbits) + offset, out,
                                    Cat("nid ", inode.nid, ": data")));
      return n;
    case DataLayout::kFlatInline:
      RETURN_IF_ERROR(ReadInline(image, inode, offset, out));
      return n;
    case DataLayout::kChunkBased:
      RETURN_IF_ERROR(ReadChunked(image, inode, offset, out, devices));
      return n;
    default:
      return Unsupported(Cat("nid ", inode.nid, ": layout ", LayoutName(inode.layout)));
  }
}

}  // namespace tessera::erofs::internal
