// Helpers shared by the directory and tar unpackers (unpack.cc, unpack_tar.cc): checking names
// taken from the image, splitting image paths and streaming a file's bytes.
//
// Thread-safety: stateless functions; the Image is only read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "tessera/builder/image.h"
#include "tessera/common/result.h"
#include "tessera/erofs/reader.h"

namespace tessera::builder::internal {

// File bytes are read and written in pieces of at most this size.
inline constexpr size_t kUnpackPieceSize = size_t{1} << 20;

// Checks a name taken from the image before it becomes a file name: refuses "", ".", "..",
// names holding '/' or NUL and names over 255 bytes (kCorrupt). The reader already refuses
// them; this is the unpacker's own line of defence.
Status CheckUnpackName(std::string_view name);

// Splits an image path "/a/b" into its parent "/a" and name "b" ("/b" -> "/", "b").
std::pair<std::string, std::string> SplitImagePath(const std::string& path);

// Reads a regular file through the image's devices and hands its bytes to `sink` in order, in
// pieces of at most kUnpackPieceSize. Fails (naming the offset) if a read fails or the data
// ends before the inode's size.
using PieceSink = std::function<Status(uint64_t offset, std::span<const uint8_t> piece)>;
Status StreamFileData(const Image& image, const erofs::InodeInfo& inode, const PieceSink& sink);

// pwrite()s the non-zero 4 KiB blocks of `piece` (which starts at a block-aligned offset) and
// skips the all-zero ones, so that holes stay holes; the caller ftruncate()s to the file size.
Status WriteSkippingZeros(int fd, uint64_t offset, std::span<const uint8_t> piece);

}  // namespace tessera::builder::internal
