// Step 3b of WriteImage: the data area, the plain (whole or leading) blocks of every inode in
// inode order. The last block of a plain file is zero-padded.
#include <sys/stat.h>

#include <algorithm>

#include "emit_common.h"

namespace tessera::erofs::writer_internal {
namespace {

Status WriteDirBlocks(const Tree& tree, const ImagePlan& plan, uint32_t index, ImageSink& sink) {
  const std::vector<DirentRef> refs = ResolvedDirents(tree, plan, index);
  const DirPacking packing = PackDirents(refs);
  std::vector<uint8_t> block(kBlockSize);
  const uint64_t count = plan.inodes[index].plain_blocks;
  for (uint64_t b = 0; b < count; ++b) {
    EncodeDirBlock(refs, packing, b, block);
    RETURN_IF_ERROR(sink.Write(block));
  }
  return Ok();
}

Status WriteInodeBlocks(const Tree& tree, const ImagePlan& plan, uint32_t index, ImageSink& sink,
                        uint64_t* data_bytes) {
  const InodePlan& inode = plan.inodes[index];
  const Node& node = tree.node(inode.node);
  RETURN_IF_ERROR(sink.PadTo(uint64_t{inode.blkaddr} * kBlockSize));
  const uint64_t bytes = std::min(inode.size, inode.plain_blocks * kBlockSize);
  switch (node.mode & S_IFMT) {
    case S_IFREG:
      *data_bytes += bytes;
      return CopyFileData(tree, plan, index, 0, bytes, sink);
    case S_IFLNK:
      return sink.Write({reinterpret_cast<const uint8_t*>(node.symlink_target.data()),
                         node.symlink_target.size()});
    case S_IFDIR:
      return WriteDirBlocks(tree, plan, index, sink);
    default:
      return MakeError(ErrorCode::kInternal, PathOf(plan, index) + ": data blocks on this type");
  }
}

}  // namespace

Status WriteDataBlocks(const Tree& tree, const ImagePlan& plan, ImageSink& sink,
                       uint64_t* data_bytes) {
  RETURN_IF_ERROR(sink.PadTo(uint64_t{plan.data_start_block} * kBlockSize));
  for (uint32_t i = 0; i < plan.inodes.size(); ++i) {
    const InodePlan& inode = plan.inodes[i];
    if (inode.layout == DataLayout::kFlatInline &&
        (tree.node(inode.node).mode & S_IFMT) == S_IFREG) {
      *data_bytes += inode.inline_size;
    }
    if (inode.plain_blocks == 0) continue;
    RETURN_IF_ERROR(WriteInodeBlocks(tree, plan, i, sink, data_bytes));
  }
  return sink.PadTo(plan.data_end_block * kBlockSize);
}

}  // namespace tessera::erofs::writer_internal
