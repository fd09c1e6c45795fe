#include "support/data_gen.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tessera/common/io.h"

namespace tessera::testing {
namespace {

constexpr uint64_t kSegment = 64 * 1024;
constexpr uint64_t kLineWidth = 64;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint8_t RandomByte(uint64_t seed, uint64_t offset) {
  uint64_t word = SplitMix64(seed * 0x100000001B3ull ^ (offset / 8));
  return static_cast<uint8_t>(word >> (8 * (offset % 8)));
}

// Line n is "line <n, 12 digits> seed <seed mod 1e6> the quick brown fox ...\n", 64 bytes wide.
uint8_t TextByte(uint64_t seed, uint64_t offset) {
  char line[128];  // formatted text is cut or padded to kLineWidth
  std::snprintf(line, sizeof(line), "line %012llu seed %06llu the quick brown fox jumps over",
                static_cast<unsigned long long>(offset / kLineWidth),
                static_cast<unsigned long long>(seed % 1000000));
  size_t len = std::min<size_t>(std::strlen(line), kLineWidth);
  std::fill(line + len, line + kLineWidth, '.');
  line[kLineWidth - 1] = '\n';
  return static_cast<uint8_t>(line[offset % kLineWidth]);
}

uint8_t ByteAt(ContentKind kind, uint64_t seed, uint64_t offset) {
  switch (kind) {
    case ContentKind::kRandom:
      return RandomByte(seed, offset);
    case ContentKind::kText:
      return TextByte(seed, offset);
    case ContentKind::kZeros:
      return 0;
    case ContentKind::kMixed:
      switch ((offset / kSegment) % 3) {
        case 0:
          return RandomByte(seed, offset);
        case 1:
          return TextByte(seed, offset);
        default:
          return 0;
      }
  }
  return 0;
}

}  // namespace

void FillContent(ContentKind kind, uint64_t seed, uint64_t offset, std::span<uint8_t> out) {
  for (size_t i = 0; i < out.size(); ++i) out[i] = ByteAt(kind, seed, offset + i);
}

std::vector<uint8_t> MakeContent(ContentKind kind, uint64_t seed, size_t size) {
  std::vector<uint8_t> out(size);
  FillContent(kind, seed, 0, out);
  return out;
}

Status WriteContentFile(const std::string& path, uint64_t size, ContentKind kind, uint64_t seed,
                        mode_t mode) {
  TRY(UniqueFd fd, UniqueFd::Open(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  std::vector<uint8_t> buf(std::min<uint64_t>(size, 1 << 20));
  for (uint64_t off = 0; off < size; off += buf.size()) {
    std::span<uint8_t> piece(buf.data(), std::min<uint64_t>(buf.size(), size - off));
    FillContent(kind, seed, off, piece);
    RETURN_IF_ERROR(PwriteFull(fd.get(), piece, off, path));
  }
  return Ok();
}

uint64_t HashString(const std::string& text) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
  for (unsigned char c : text) h = (h ^ c) * 0x100000001B3ull;
  return SplitMix64(h);
}

}  // namespace tessera::testing
