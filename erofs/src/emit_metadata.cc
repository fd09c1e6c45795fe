// Step 3a of WriteImage: the metadata area. Each inode is followed by its xattr area and
// then either its inline tail (§2.3) or its 8-byte-aligned chunk index array (§3).
#include <sys/stat.h>

#include <array>
#include <cstring>

#include "emit_common.h"
#include "inode_encode.h"
#include "xattr_encode.h"

namespace tessera::erofs::writer_internal {
namespace {

uint32_t RawU(const Node& node, const InodePlan& inode) {
  switch (node.mode & S_IFMT) {
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      return inode.raw_u;
    default:
      return inode.layout == DataLayout::kChunkBased ? inode.raw_u : inode.blkaddr;
  }
}

InodeFields FieldsOf(const Node& node, const InodePlan& inode) {
  InodeFields f;
  f.extended = inode.extended;
  f.layout = inode.layout;
  f.xattr_icount = XattrIcount(inode.xattrs.size());
  f.mode = static_cast<uint16_t>(node.mode);
  f.nlink = inode.nlink;
  f.size = inode.size;
  f.u = RawU(node, inode);
  f.ino = inode.ino;
  f.uid = node.uid;
  f.gid = node.gid;
  f.mtime = static_cast<uint64_t>(node.mtime);
  f.mtime_nsec = node.mtime_nsec;
  return f;
}

Status WriteInlineTail(const Tree& tree, const ImagePlan& plan, uint32_t index, ImageSink& sink) {
  const InodePlan& inode = plan.inodes[index];
  const Node& node = tree.node(inode.node);
  const uint64_t tail_start = inode.size - inode.inline_size;
  switch (node.mode & S_IFMT) {
    case S_IFREG:
      return CopyFileData(tree, plan, index, tail_start, inode.inline_size, sink);
    case S_IFLNK:
      return sink.Write({reinterpret_cast<const uint8_t*>(node.symlink_target.data()),
                         node.symlink_target.size()});
    case S_IFDIR: {
      const std::vector<DirentRef> refs = ResolvedDirents(tree, plan, index);
      const DirPacking packing = PackDirents(refs);
      std::vector<uint8_t> block(kBlockSize);
      EncodeDirBlock(refs, packing, packing.block_first.size() - 1, block);
      return sink.Write(std::span<const uint8_t>(block).first(inode.inline_size));
    }
    default:
      return MakeError(ErrorCode::kInternal, PathOf(plan, index) + ": inline data on this type");
  }
}

Status WriteChunkIndexes(const Node& node, const InodePlan& inode, ImageSink& sink) {
  RETURN_IF_ERROR(sink.PadTo(inode.chunk_offset));
  const std::vector<ChunkRef>& chunks = node.chunked->chunks;
  std::vector<uint8_t> bytes(chunks.size() * sizeof(ChunkIndex));
  for (size_t i = 0; i < chunks.size(); ++i) {
    ChunkIndex ci{};
    ci.advise = 0;
    ci.device_id = chunks[i].device_id;
    ci.blkaddr = chunks[i].blkaddr;
    std::memcpy(bytes.data() + i * sizeof(ChunkIndex), &ci, sizeof(ci));
  }
  return sink.Write(bytes);
}

Status WriteOneInode(const Tree& tree, const ImagePlan& plan, uint32_t index, ImageSink& sink) {
  const InodePlan& inode = plan.inodes[index];
  const Node& node = tree.node(inode.node);
  RETURN_IF_ERROR(sink.PadTo(inode.offset));
  std::array<uint8_t, sizeof(InodeExtended)> raw{};
  const uint32_t isize = InodeSize(inode.extended);
  EncodeInode(FieldsOf(node, inode), std::span<uint8_t>(raw).first(isize));
  RETURN_IF_ERROR(sink.Write(std::span<const uint8_t>(raw).first(isize)));
  RETURN_IF_ERROR(sink.Write(inode.xattrs));
  if (inode.layout == DataLayout::kChunkBased) return WriteChunkIndexes(node, inode, sink);
  if (inode.layout == DataLayout::kFlatInline) return WriteInlineTail(tree, plan, index, sink);
  return Ok();
}

}  // namespace

Status WriteMetadata(const Tree& tree, const ImagePlan& plan, ImageSink& sink) {
  for (uint32_t i = 0; i < plan.inodes.size(); ++i) {
    RETURN_IF_ERROR(WriteOneInode(tree, plan, i, sink));
  }
  return sink.PadTo(plan.meta_end);
}

}  // namespace tessera::erofs::writer_internal
