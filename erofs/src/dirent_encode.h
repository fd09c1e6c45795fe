// Private to the EROFS writer: directory entry ordering, block packing and encoding (§5).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tessera/erofs/format.h"
#include "tessera/erofs/tree.h"

namespace tessera::erofs::writer_internal {

struct DirentRef {
  std::string_view name;
  uint64_t nid = 0;
  FileType type = FileType::kUnknown;
  NodeId child = 0;  // the tree node of a child entry (unused for "." and "..")
};

// The entries of `dir` plus "." and "..", sorted bytewise. Children carry their NodeId with
// nid 0 and type kUnknown (callers fill them in); the dots get the given nids.
std::vector<DirentRef> SortedDirents(const Node& dir, uint64_t self_nid, uint64_t parent_nid);

// Packing of sorted entries into blocks: first entry index of every block (block_first[0] ==
// 0) and the directory's i_size (offset just past the last name).
struct DirPacking {
  std::vector<uint32_t> block_first;
  uint64_t size = 0;
};
DirPacking PackDirents(std::span<const DirentRef> entries);

// Encodes block `block` of the packed directory into out (kBlockSize bytes, zero-filled by
// this function). Returns the bytes used in that block.
uint32_t EncodeDirBlock(std::span<const DirentRef> entries, const DirPacking& packing, size_t block,
                        std::span<uint8_t> out);

}  // namespace tessera::erofs::writer_internal
