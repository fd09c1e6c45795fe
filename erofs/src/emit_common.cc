// Shared helpers of the metadata and data emitters.
#include "emit_common.h"

#include <algorithm>
#include <string>

#include "inode_encode.h"

namespace tessera::erofs::writer_internal {

Status ImageSink::PadTo(uint64_t target) {
  const uint64_t at = offset();
  if (at > target) {
    return MakeError(ErrorCode::kInternal, "writer: at byte " + std::to_string(at) +
                                               ", past expected offset " + std::to_string(target));
  }
  if (at == target) return Ok();
  return out_.WriteZeros(target - at);
}

std::vector<DirentRef> ResolvedDirents(const Tree& tree, const ImagePlan& plan, uint32_t index) {
  const InodePlan& self = plan.inodes[index];
  const uint64_t parent_nid = index == 0 ? self.nid : plan.inodes[self.parent].nid;
  std::vector<DirentRef> refs = SortedDirents(tree.node(self.node), self.nid, parent_nid);
  for (DirentRef& ref : refs) {
    if (ref.type == FileType::kDirectory && (ref.name == "." || ref.name == "..")) continue;
    const InodePlan& child = plan.inodes[plan.index_of_node[ref.child]];
    ref.nid = child.nid;
    ref.type = FileTypeOfMode(tree.node(ref.child).mode);
  }
  return refs;
}

Status CopyFileData(const Tree& tree, const ImagePlan& plan, uint32_t index, uint64_t offset,
                    uint64_t length, ImageSink& sink) {
  const ByteSource& source = *tree.node(plan.inodes[index].node).data;
  std::vector<uint8_t> buffer(static_cast<size_t>(std::min(length, kCopyChunk)));
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, buffer.size()));
    std::span<uint8_t> piece(buffer.data(), n);
    Status st = source.ReadAt(offset, piece);
    if (!st) {
      return std::move(st).error().Wrap(PathOf(plan, index) + ": reading data at offset " +
                                        std::to_string(offset));
    }
    RETURN_IF_ERROR(sink.Write(piece));
    offset += n;
    length -= n;
  }
  return Ok();
}

}  // namespace tessera::erofs::writer_internal
