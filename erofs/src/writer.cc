// WriteImage: collect → layout → emit (head, metadata, data, trailer). See writer_plan.h.
#include "tessera/erofs/writer.h"

#include "writer_plan.h"

namespace tessera::erofs {

using writer_internal::ImagePlan;
using writer_internal::ImageSink;

Result<WriteStats> WriteImage(const Tree& tree, const WriterOptions& options, ByteSink& out) {
  ImagePlan plan;
  RETURN_IF_ERROR_CTX(writer_internal::CollectInodes(tree, plan), "erofs writer");
  RETURN_IF_ERROR_CTX(writer_internal::LayoutImage(tree, options, plan), "erofs writer");

  std::vector<uint8_t> trailer = options.trailer;
  if (options.patch_trailer) {
    std::vector<uint64_t> node_nids(tree.size(), UINT64_MAX);
    for (const auto& inode : plan.inodes) node_nids[inode.node] = inode.nid;
    options.patch_trailer(node_nids, trailer);
  }

  ImageSink sink(out);
  const std::vector<uint8_t> head = writer_internal::EncodeHead(plan, options);
  RETURN_IF_ERROR(sink.Write(head));
  RETURN_IF_ERROR_CTX(writer_internal::WriteMetadata(tree, plan, sink), "erofs writer");
  WriteStats stats;
  RETURN_IF_ERROR_CTX(writer_internal::WriteDataBlocks(tree, plan, sink, &stats.data_bytes),
                      "erofs writer");
  RETURN_IF_ERROR(sink.PadTo(plan.trailer_offset));
  RETURN_IF_ERROR(sink.Write(trailer));
  RETURN_IF_ERROR(sink.PadTo(plan.image_blocks * kBlockSize));
  RETURN_IF_ERROR(out.Flush());

  stats.image_size = plan.image_blocks * kBlockSize;
  stats.inodes = plan.inodes.size();
  stats.root_nid = plan.inodes[0].nid;
  stats.meta_blkaddr = plan.meta_blkaddr;
  stats.trailer_offset = plan.trailer_offset;
  return stats;
}

}  // namespace tessera::erofs
