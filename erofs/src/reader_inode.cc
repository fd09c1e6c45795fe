// Inode decoding and validation (§2, §2.3, §2.4).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdint>
#include <limits>
#include <string>

#include "reader_state.h"

#include "tessera/erofs/format.h"

namespace tessera::erofs::internal {
namespace {

constexpr uint16_t kFormatKnownBits = 0xF;  // version bit + 3 layout bits
constexpr uint64_t kMaxFileSize = uint64_t{std::numeric_limits<int64_t>::max()};

std::string NidPrefix(uint64_t nid) { return Cat("nid ", nid, ": "); }

// §2.4: "new" Linux device encoding.
uint64_t DecodeRdev(uint32_t raw) {
  const uint32_t major = (raw & 0xFFF00u) >> 8;
  const uint32_t minor = (raw & 0xFFu) | ((raw >> 12) & 0xFFF00u);
  return makedev(major, minor);
}

void DecodeCompact(const Image& image, const InodeCompact& di, InodeInfo& info) {
  info.mode = di.i_mode;
  info.nlink = di.i_nlink;
  info.size = di.i_size;
  info.uid = di.i_uid;
  info.gid = di.i_gid;
  // §7: compact inodes take the superblock time; 6.15+ adds i_mtime (old writers leave it 0).
  // SAFETY: unsigned addition then a cast, so hostile values wrap instead of overflowing.
  info.mtime = static_cast<int64_t>(static_cast<uint64_t>(image.sb.build_time) + di.i_mtime);
  info.mtime_nsec = image.sb.build_time_nsec;
  info.raw_blkaddr = di.i_u;
  info.ino = di.i_ino;
}

void DecodeExtended(const InodeExtended& di, InodeInfo& info) {
  info.mode = di.i_mode;
  info.nlink = di.i_nlink;
  info.size = di.i_size;
  info.uid = di.i_uid;
  info.gid = di.i_gid;
  // SAFETY: i_mtime is stored as u64 but means a signed time (§2.2).
  info.mtime = static_cast<int64_t>(di.i_mtime);
  info.mtime_nsec = di.i_mtime_nsec;
  info.raw_blkaddr = di.i_u;
  info.ino = di.i_ino;
}

Status CheckFormat(uint64_t nid, uint16_t format) {
  if ((format & ~kFormatKnownBits) != 0) {
    return Unsupported(Cat(NidPrefix(nid), "i_format ", Hex(format), " has unknown bits ",
                           Hex(format & ~kFormatKnownBits)));
  }
  const auto layout = static_cast<DataLayout>((format >> kInodeLayoutShift) & kInodeLayoutMask);
  switch (layout) {
    case DataLayout::kFlatPlain:
    case DataLayout::kFlatInline:
    case DataLayout::kChunkBased:
      return Ok();
    case DataLayout::kCompressedFull:
    case DataLayout::kCompressedCompact:
      return Unsupported(Cat(NidPrefix(nid), "i_format ", Hex(format), ": data layout ",
                             LayoutName(layout), " (compressed) is not supported"));
  }
  return Corrupt(Cat(NidPrefix(nid), "i_format ", Hex(format), ": invalid data layout ",
                     unsigned((format >> kInodeLayoutShift) & kInodeLayoutMask)));
}

Status CheckFlatPlain(const Image& image, const InodeInfo& info) {
  if (info.raw_blkaddr == kNullAddr) {
    // No blocks: regular files read as zeros, but directories and symlinks need their data.
    if (info.size != 0 && !S_ISREG(info.mode)) {
      return Corrupt(Cat(NidPrefix(info.nid), "i_u is NULL but i_size is ", info.size));
    }
    return Ok();
  }
  const uint64_t start = uint64_t{info.raw_blkaddr} << image.blkszbits;
  if (!image.Contains(start, info.size)) {
    return Corrupt(Cat(NidPrefix(info.nid), "i_size ", info.size, " from block ", info.raw_blkaddr,
                       " runs past image end (", image.size(), " bytes)"));
  }
  return Ok();
}

// §2.3: full blocks from raw_blkaddr, then a tail right after the inode and its xattrs that
// must not cross a block boundary. §2.3 words it as "(inode_off mod blksz) + isize + xattr_size
// + tail <= blksz", but the kernel only checks the tail itself (the inode and its xattrs may
// end in the next block, and mkfs.erofs 1.5 writes such inodes), so this follows the kernel.
Status CheckFlatInline(const Image& image, const InodeInfo& info) {
  if (info.size == 0) return Ok();
  const uint64_t full_blocks = (info.size - 1) >> image.blkszbits;
  const uint64_t tail = info.size - (full_blocks << image.blkszbits);
  if (full_blocks > 0) {
    const uint64_t start = uint64_t{info.raw_blkaddr} << image.blkszbits;
    if (info.raw_blkaddr == kNullAddr || !image.Contains(start, full_blocks << image.blkszbits)) {
      return Corrupt(Cat(NidPrefix(info.nid), "i_size ", info.size, " needs ", full_blocks,
                         " blocks from block ", info.raw_blkaddr, ", past image end (",
                         image.size(), " bytes)"));
    }
  }
  const uint64_t tail_offset = info.inode_offset + info.inode_size + info.xattr_size;
  const uint64_t in_block = tail_offset & (image.blksz - 1);
  if (in_block + tail > image.blksz) {
    return Corrupt(Cat(NidPrefix(info.nid), "inline tail of ", tail, " bytes crosses the block ",
                       "boundary (tail at block offset ", in_block, ", inode at byte ",
                       info.inode_offset, ", xattrs ", info.xattr_size, " bytes)"));
  }
  if (!image.Contains(tail_offset, tail)) {
    return Corrupt(Cat(NidPrefix(info.nid), "inline tail past image end"));
  }
  return Ok();
}

Status CheckData(const Image& image, const InodeInfo& info) {
  if (info.size > kMaxFileSize) {
    return Corrupt(Cat(NidPrefix(info.nid), "i_size ", info.size, " exceeds 2^63 - 1"));
  }
  const uint32_t type = info.mode & S_IFMT;
  if (type == S_IFCHR || type == S_IFBLK || type == S_IFIFO || type == S_IFSOCK) {
    if (info.size != 0) {
      return Corrupt(Cat(NidPrefix(info.nid), "special file has i_size ", info.size));
    }
    return Ok();
  }
  if (type == S_IFLNK && info.size > kMaxSymlinkSize) {
    return Corrupt(
        Cat(NidPrefix(info.nid), "symlink i_size ", info.size, " exceeds ", kMaxSymlinkSize));
  }
  // Directory data lives in the image, so it can never be larger than the image.
  if (type == S_IFDIR && info.size > image.size()) {
    return Corrupt(Cat(NidPrefix(info.nid), "directory i_size ", info.size,
                       " exceeds the image size (", image.size(), " bytes)"));
  }
  switch (info.layout) {
    case DataLayout::kFlatPlain:
      return CheckFlatPlain(image, info);
    case DataLayout::kFlatInline:
      return CheckFlatInline(image, info);
    case DataLayout::kChunkBased: {
      auto layout = GetChunkLayout(image, info);
      if (!layout) return std::move(layout).error();
      return Ok();
    }
    default:
      return Unsupported(Cat(NidPrefix(info.nid), "layout ", LayoutName(info.layout)));
  }
}

Status CheckMode(uint64_t nid, uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
    case S_IFDIR:
    case S_IFLNK:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      return Ok();
    default:
      return Corrupt(Cat(NidPrefix(nid), "i_mode 0", std::oct, mode, " has an unknown file type"));
  }
}

}  // namespace

Result<uint64_t> InodeOffset(const Image& image, uint64_t nid) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  if (nid > (max - image.meta_base) / kInodeSlotSize ||
      !image.Contains(image.meta_base + nid * kInodeSlotSize, sizeof(InodeCompact))) {
    return MakeError(ErrorCode::kOutOfRange,
                     Cat(NidPrefix(nid), "inode lies past image end (", image.size(),
                         " bytes, meta_blkaddr ", image.sb.meta_blkaddr, ")"));
  }
  return image.meta_base + nid * kInodeSlotSize;
}

Result<InodeInfo> ReadInode(const Image& image, uint64_t nid) {
  TRY(const uint64_t offset, InodeOffset(image, nid));
  const uint16_t format = LoadAt<uint16_t>(image.bytes, offset);
  RETURN_IF_ERROR(CheckFormat(nid, format));
  InodeInfo info;
  info.nid = nid;
  info.inode_offset = offset;
  info.extended = (format & kInodeVersionExtended) != 0;
  info.layout = static_cast<DataLayout>((format >> kInodeLayoutShift) & kInodeLayoutMask);
  info.inode_size = info.extended ? sizeof(InodeExtended) : sizeof(InodeCompact);
  if (!image.Contains(offset, info.inode_size)) {
    return Corrupt(Cat(NidPrefix(nid), "extended inode at byte ", offset, " past image end"));
  }
  uint16_t icount = 0;
  if (info.extended) {
    const auto di = LoadAt<InodeExtended>(image.bytes, offset);
    DecodeExtended(di, info);
    icount = di.i_xattr_icount;
  } else {
    const auto di = LoadAt<InodeCompact>(image.bytes, offset);
    DecodeCompact(image, di, info);
    icount = di.i_xattr_icount;
  }
  RETURN_IF_ERROR(CheckMode(nid, info.mode));
  // §6: icount 0 means no xattr area; else 12 + 4 * (icount - 1) bytes.
  info.xattr_size = icount == 0 ? 0 : sizeof(XattrIbodyHeader) + 4u * (icount - 1u);
  if (!image.Contains(offset + info.inode_size, info.xattr_size)) {
    return Corrupt(Cat(NidPrefix(nid), "xattr area (i_xattr_icount ", icount, ", ", info.xattr_size,
                       " bytes) past image end (", image.size(), " bytes)"));
  }
  if (S_ISCHR(info.mode) || S_ISBLK(info.mode)) info.rdev = DecodeRdev(info.raw_blkaddr);
  RETURN_IF_ERROR(CheckData(image, info));
  return info;
}

}  // namespace tessera::erofs::internal
