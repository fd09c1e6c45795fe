// Step 2 of WriteImage: validate nodes, decide each inode's format and data layout, place
// inodes in the metadata area (nids) and assign data blocks.
//
// Metadata area: starts at the first block after block 0 and the device table. nids count
// 32-byte slots from byte 0 (meta_blkaddr = 0), so the root, placed first, has nid 128 in
// the usual case: a root nid of 0 would give the root st_ino 0, which older C libraries'
// readdir() skips as a deleted entry.
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "dirent_encode.h"
#include "inode_encode.h"
#include "writer_plan.h"
#include "xattr_encode.h"

namespace tessera::erofs::writer_internal {
namespace {

constexpr uint64_t kSbExtensionOffset = kSuperblockOffset + sizeof(SuperBlock);  // 1152
constexpr uint32_t kMaxSymlinkTarget = kBlockSize - 1;

constexpr uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

std::string Octal(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0%o", v);
  return buf;
}

Error NodeError(const ImagePlan& plan, uint32_t index, ErrorCode code, const std::string& what) {
  return MakeError(code, PathOf(plan, index) + ": " + what);
}

// What the content of an inode needs, before placement.
struct Content {
  bool may_inline = false;
  uint64_t chunk_count = 0;  // CHUNK_BASED only
};

Result<Content> ShapeRegular(const Node& node, const WriterOptions& options, InodePlan& inode) {
  inode.size = node.size;
  if (node.chunked) {
    if (node.data) return MakeError(ErrorCode::kInvalidArgument, "both data and chunks set");
    const ChunkedData& c = *node.chunked;
    if (c.chunk_bits > kChunkFormatBlkbitsMask) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "chunk_bits " + std::to_string(c.chunk_bits) + " > 31");
    }
    const uint64_t chunk_size = uint64_t{kBlockSize} << c.chunk_bits;
    const uint64_t want = (node.size + chunk_size - 1) / chunk_size;
    if (c.chunks.size() != want) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "chunk count " + std::to_string(c.chunks.size()) + " != " +
                           std::to_string(want) + " for size " + std::to_string(node.size));
    }
    for (size_t i = 0; i < c.chunks.size(); ++i) {
      if (c.chunks[i].device_id > options.devices.size()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "chunk " + std::to_string(i) + ": device_id " +
                             std::to_string(c.chunks[i].device_id) + " has no device-table slot");
      }
    }
    inode.layout = DataLayout::kChunkBased;
    inode.raw_u = c.chunk_bits | kChunkFormatIndexes;
    return Content{false, want};
  }
  if (node.data) {
    if (node.data->Size() < node.size) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "data source has " + std::to_string(node.data->Size()) +
                           " bytes, less than size " + std::to_string(node.size));
    }
    return Content{true, 0};
  }
  if (node.size != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "size " + std::to_string(node.size) + " but no data source");
  }
  return Content{};
}

// Sets inode.size / raw_u / layout for the node's file type.
Result<Content> ShapeContent(const Node& node, const WriterOptions& options, InodePlan& inode) {
  const uint32_t type = node.mode & S_IFMT;
  if (type != S_IFREG && (node.data || node.chunked)) {
    return MakeError(ErrorCode::kInvalidArgument, "file data on a non-regular file");
  }
  if (type != S_IFDIR && !node.entries.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "entries on a non-directory");
  }
  switch (type) {
    case S_IFREG:
      return ShapeRegular(node, options, inode);
    case S_IFDIR:
      inode.size = PackDirents(SortedDirents(node, 0, 0)).size;
      return Content{true, 0};
    case S_IFLNK:
      if (node.symlink_target.empty() || node.symlink_target.size() > kMaxSymlinkTarget) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "symlink target of " + std::to_string(node.symlink_target.size()) +
                             " bytes (must be 1..4095)");
      }
      inode.size = node.symlink_target.size();
      return Content{true, 0};
    case S_IFCHR:
    case S_IFBLK: {
      TRY(inode.raw_u, EncodeRdev(node.rdev));
      return Content{};
    }
    case S_IFIFO:
    case S_IFSOCK:
      inode.raw_u = 0;
      return Content{};
    default:
      return MakeError(ErrorCode::kInvalidArgument,
                       "mode " + Octal(node.mode) + " has no valid file type");
  }
}

Status ShapeInode(const Node& node, const WriterOptions& options, InodePlan& inode,
                  Content& content) {
  if ((node.mode & ~uint32_t{S_IFMT | 07777}) != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "mode has bits outside S_IFMT|07777");
  }
  if (node.mtime_nsec >= 1000000000u) {
    return MakeError(ErrorCode::kInvalidArgument, "mtime_nsec >= 1e9");
  }
  TRY(content, ShapeContent(node, options, inode));
  TRY(inode.xattrs, EncodeXattrArea(node.xattrs));
  inode.extended = node.uid > 0xFFFF || node.gid > 0xFFFF || inode.size > 0xFFFFFFFFu ||
                   inode.nlink > 0xFFFF || node.mtime != options.build_time ||
                   node.mtime_nsec != options.build_time_nsec;
  return Ok();
}

// Places one inode at or after `cursor`; returns the byte just past its metadata.
uint64_t PlaceInode(const WriterOptions& options, const Content& content, uint64_t cursor,
                    InodePlan& inode) {
  const uint64_t body = InodeSize(inode.extended) + inode.xattrs.size();
  uint64_t pos = AlignUp(cursor, kInodeSlotSize);
  // Keep inode + xattrs inside one block whenever they fit in one.
  if (pos % kBlockSize + body > kBlockSize) pos = AlignUp(pos, kBlockSize);
  inode.offset = pos;
  if (inode.layout == DataLayout::kChunkBased) {
    inode.chunk_offset = AlignUp(pos + body, sizeof(ChunkIndex));
    return inode.chunk_offset + content.chunk_count * sizeof(ChunkIndex);
  }
  const uint64_t tail = inode.size % kBlockSize;
  if (content.may_inline && options.inline_data && tail != 0 && body + tail <= kBlockSize) {
    bool fits = pos % kBlockSize + body + tail <= kBlockSize;
    // Padding to the next block wastes the rest of this block; a plain tail wastes the rest
    // of its data block. Take the smaller waste.
    if (!fits && kBlockSize - pos % kBlockSize <= kBlockSize - tail) {
      pos = AlignUp(pos, kBlockSize);
      inode.offset = pos;
      fits = true;
    }
    if (fits) {
      inode.layout = DataLayout::kFlatInline;
      inode.inline_size = tail;
      inode.plain_blocks = inode.size / kBlockSize;
      return pos + body + tail;
    }
  }
  inode.layout = DataLayout::kFlatPlain;
  inode.plain_blocks = (inode.size + kBlockSize - 1) / kBlockSize;
  return pos + body;
}

Status CheckOptions(const WriterOptions& options) {
  if (options.volume_name.size() > 15) {
    return MakeError(ErrorCode::kInvalidArgument, "volume_name longer than 15 bytes");
  }
  if (options.sb_extension_size % kDeviceSlotSize != 0 ||
      kSbExtensionOffset + options.sb_extension_size > kBlockSize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "sb_extension_size must be a multiple of 128 and at most 2944");
  }
  if (options.devices.size() > 0xFFFF) {
    return MakeError(ErrorCode::kTooLarge, "devices: more than 65535");
  }
  for (size_t i = 0; i < options.devices.size(); ++i) {
    if (options.devices[i].tag.size() > 64) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "devices[" + std::to_string(i) + "]: tag longer than 64 bytes");
    }
  }
  return Ok();
}

Status AssignBlocks(const WriterOptions& options, ImagePlan& plan) {
  plan.data_start_block = static_cast<uint32_t>(AlignUp(plan.meta_end, kBlockSize) / kBlockSize);
  uint64_t next = plan.data_start_block;
  for (InodePlan& inode : plan.inodes) {
    if (inode.plain_blocks == 0) continue;
    if (next + inode.plain_blocks > kNullAddr) {
      return MakeError(ErrorCode::kTooLarge, "image: more than 2^32-1 blocks");
    }
    inode.blkaddr = static_cast<uint32_t>(next);
    next += inode.plain_blocks;
  }
  plan.data_end_block = next;
  plan.trailer_offset = next * kBlockSize;
  plan.image_blocks = next + AlignUp(options.trailer.size(), kBlockSize) / kBlockSize;
  uint64_t total = plan.image_blocks;
  for (const DeviceInfo& d : options.devices) total += d.blocks;
  if (plan.image_blocks > kNullAddr || (!options.devices.empty() && total > kNullAddr)) {
    return MakeError(ErrorCode::kTooLarge, "image: unified address space over 2^32-1 blocks");
  }
  return Ok();
}

}  // namespace

Status LayoutImage(const Tree& tree, const WriterOptions& options, ImagePlan& plan) {
  RETURN_IF_ERROR(CheckOptions(options));
  plan.devt_offset = static_cast<uint32_t>(kSbExtensionOffset + options.sb_extension_size);
  const uint64_t devt_end = plan.devt_offset + uint64_t{kDeviceSlotSize} * options.devices.size();
  plan.meta_blkaddr = 0;
  plan.meta_start = AlignUp(devt_end, kBlockSize);
  uint64_t cursor = plan.meta_start;
  for (uint32_t i = 0; i < plan.inodes.size(); ++i) {
    InodePlan& inode = plan.inodes[i];
    Content content;
    Status st = ShapeInode(tree.node(inode.node), options, inode, content);
    if (!st) return std::move(st).error().Wrap(PathOf(plan, i));
    cursor = PlaceInode(options, content, cursor, inode);
    inode.nid = (inode.offset - uint64_t{plan.meta_blkaddr} * kBlockSize) / kInodeSlotSize;
    inode.ino = i + 1;
    plan.any_chunked |= inode.layout == DataLayout::kChunkBased;
  }
  plan.meta_end = cursor;
  if (plan.inodes[0].nid > 0xFFFF) {
    return NodeError(plan, 0, ErrorCode::kTooLarge, "root nid does not fit 16 bits");
  }
  return AssignBlocks(options, plan);
}

}  // namespace tessera::erofs::writer_internal
