#include "unpack_util.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "tessera/common/io.h"

namespace tessera::builder::internal {
namespace {

constexpr size_t kBlock = 4096;
constexpr size_t kMaxName = 255;

bool AllZero(std::span<const uint8_t> bytes) {
  return bytes.empty() ||
         (bytes[0] == 0 && std::memcmp(bytes.data(), bytes.data() + 1, bytes.size() - 1) == 0);
}

}  // namespace

Status CheckUnpackName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > kMaxName ||
      name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
    return MakeError(ErrorCode::kCorrupt,
                     "refusing entry name '" + std::string(name) +
                         "' (empty, '.', '..', contains '/' or NUL, or over 255 bytes)");
  }
  return Ok();
}

std::pair<std::string, std::string> SplitImagePath(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"/", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

Status StreamFileData(const Image& image, const erofs::InodeInfo& inode, const PieceSink& sink) {
  std::vector<uint8_t> buf(std::min<uint64_t>(inode.size, kUnpackPieceSize));
  for (uint64_t off = 0; off < inode.size;) {
    const size_t want = std::min<uint64_t>(inode.size - off, buf.size());
    const std::span<uint8_t> piece = std::span(buf).first(want);
    auto got = image.reader().Read(inode.nid, off, piece, image.devices());
    if (!got) return got.error().Wrap("reading offset " + std::to_string(off));
    if (*got != want) {
      return MakeError(ErrorCode::kCorrupt, "file data ends at offset " +
                                                std::to_string(off + *got) + ", before its size " +
                                                std::to_string(inode.size));
    }
    RETURN_IF_ERROR(sink(off, piece));
    off += want;
  }
  return Ok();
}

Status WriteSkippingZeros(int fd, uint64_t offset, std::span<const uint8_t> piece) {
  size_t pos = 0;
  while (pos < piece.size()) {
    if (AllZero(piece.subspan(pos, std::min(kBlock, piece.size() - pos)))) {
      pos += kBlock;
      continue;
    }
    size_t end = pos;
    while (end < piece.size() &&
           !AllZero(piece.subspan(end, std::min(kBlock, piece.size() - end)))) {
      end += std::min(kBlock, piece.size() - end);
    }
    RETURN_IF_ERROR(PwriteFull(fd, piece.subspan(pos, end - pos), offset + pos, "write"));
    pos = end;
  }
  return Ok();
}

}  // namespace tessera::builder::internal
