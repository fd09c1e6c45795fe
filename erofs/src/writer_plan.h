// Private to the EROFS writer: the plan computed from a Tree before any byte is written.
//
// WriteImage runs in three steps: CollectInodes (walk the tree, assign inode order, count
// links, validate nodes), LayoutImage (sizes, nids, inline/plain decisions, data blocks) and
// the emit step in writer.cc. Every step is deterministic for a given tree and options.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/format.h"
#include "tessera/erofs/tree.h"
#include "tessera/erofs/writer.h"

namespace tessera::erofs::writer_internal {

inline constexpr uint32_t kNoIndex = 0xFFFFFFFF;

// One inode to write: one per reachable node (hard links share one).
struct InodePlan {
  NodeId node = 0;
  uint32_t parent = kNoIndex;         // inode index of the directory that first names it
  const std::string* name = nullptr;  // first name (key in the parent's entries); root: null
  uint32_t nlink = 0;
  uint32_t subdirs = 0;

  // Filled by LayoutImage.
  uint64_t size = 0;  // i_size
  bool extended = false;
  DataLayout layout = DataLayout::kFlatPlain;
  std::vector<uint8_t> xattrs;  // encoded xattr area (§6), empty if none
  uint64_t offset = 0;          // byte offset of the inode in the image
  uint64_t nid = 0;
  uint32_t ino = 0;
  uint64_t inline_size = 0;      // tail bytes stored right after inode + xattrs
  uint64_t plain_blocks = 0;     // whole blocks stored in the data area
  uint32_t blkaddr = kNullAddr;  // first data block (FLAT_*)
  uint32_t raw_u = 0;            // i_u for devices / chunk format
  uint64_t chunk_offset = 0;     // CHUNK_BASED: byte offset of the index array
};

struct ImagePlan {
  std::vector<InodePlan> inodes;        // inode 0 is the root
  std::vector<uint32_t> index_of_node;  // NodeId -> inode index (kNoIndex if unreachable)
  uint32_t devt_offset = 0;             // byte offset of the device table
  uint32_t meta_blkaddr = 0;
  uint64_t meta_start = 0;  // byte offset of the first inode
  uint64_t meta_end = 0;    // byte just past the last metadata byte
  uint32_t data_start_block = 0;
  uint64_t data_end_block = 0;  // first block after the data area
  uint64_t trailer_offset = 0;
  uint64_t image_blocks = 0;
  bool any_chunked = false;
};

// Slash-separated path of an inode ("/" for the root), for error messages.
std::string PathOf(const ImagePlan& plan, uint32_t index);

// Walks the tree from the root (breadth first, entries in name order), assigning inode
// indexes and link counts. Fails on dangling NodeIds and directories reachable twice.
Status CollectInodes(const Tree& tree, ImagePlan& plan);

// Validates each node and decides sizes, inode formats, placement, nids and data blocks.
Status LayoutImage(const Tree& tree, const WriterOptions& options, ImagePlan& plan);

// Bytes [0, meta_start): superblock, caller extension, device table; checksum set (§1, §4).
std::vector<uint8_t> EncodeHead(const ImagePlan& plan, const WriterOptions& options);

// A ByteSink wrapper that addresses bytes relative to where the image starts.
class ImageSink {
 public:
  explicit ImageSink(ByteSink& out) : out_(out), base_(out.Position()) {}
  uint64_t offset() const { return out_.Position() - base_; }
  Status Write(std::span<const uint8_t> data) { return out_.Write(data); }
  // Writes zeros up to `offset`; kInternal if already past it.
  Status PadTo(uint64_t offset);

 private:
  ByteSink& out_;
  uint64_t base_;
};

// The metadata area: inodes, xattrs, inline tails and chunk indexes, up to plan.meta_end.
Status WriteMetadata(const Tree& tree, const ImagePlan& plan, ImageSink& sink);
// The data area: plain blocks of every inode, up to plan.data_end_block. Adds the regular
// file bytes stored in the image (inline and plain) to *data_bytes.
Status WriteDataBlocks(const Tree& tree, const ImagePlan& plan, ImageSink& sink,
                       uint64_t* data_bytes);

}  // namespace tessera::erofs::writer_internal
