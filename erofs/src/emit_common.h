// Private to the EROFS writer: helpers shared by the metadata and data emitters.
#pragma once

#include <cstdint>
#include <vector>

#include "dirent_encode.h"
#include "writer_plan.h"

namespace tessera::erofs::writer_internal {

// Largest piece of file data read from a ByteSource at once.
inline constexpr uint64_t kCopyChunk = 1 << 20;

// The sorted entries of directory inode `index`, with every nid and file type filled in.
std::vector<DirentRef> ResolvedDirents(const Tree& tree, const ImagePlan& plan, uint32_t index);

// Copies `length` bytes of a regular file's data starting at `offset` to the sink, in pieces
// of at most kCopyChunk bytes. Errors name the tree path and offset.
Status CopyFileData(const Tree& tree, const ImagePlan& plan, uint32_t index, uint64_t offset,
                    uint64_t length, ImageSink& sink);

}  // namespace tessera::erofs::writer_internal
