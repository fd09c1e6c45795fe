#include "cache/ready_bitmap.h"

#include <stdio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tessera/common/io.h"
#include "tessera/storage/format.h"

namespace tessera::storage::cache_internal {
namespace {

constexpr char kMagic[8] = {'T', 'S', 'R', 'B', 'M', 'A', 'P', '1'};
constexpr size_t kHeader = 8 + 4 + 32;

uint32_t Crc(std::span<const uint8_t> b) { return Crc32c(0xFFFFFFFF, b) ^ 0xFFFFFFFF; }

}  // namespace

std::vector<uint8_t> LoadBitmap(const std::string& path, const Sha256Digest& fingerprint,
                                uint32_t count, bool* rebuilt) {
  size_t bytes = (count + 7) / 8;
  std::vector<uint8_t> zero(bytes, 0);
  *rebuilt = true;
  auto file = ReadFile(path);
  if (!file || file->size() != kHeader + bytes + 4) return zero;
  const uint8_t* p = file->data();
  if (std::memcmp(p, kMagic, 8) != 0 || GetU32(p + 8) != count ||
      std::memcmp(p + 12, fingerprint.data(), 32) != 0 ||
      GetU32(p + kHeader + bytes) != Crc(std::span(*file).first(kHeader + bytes))) {
    return zero;
  }
  *rebuilt = false;
  return std::vector<uint8_t>(p + kHeader, p + kHeader + bytes);
}

Status SaveBitmap(const std::string& path, const Sha256Digest& fingerprint,
                  const std::vector<uint8_t>& bits, uint32_t count) {
  std::vector<uint8_t> out(kHeader + bits.size() + 4);
  std::memcpy(out.data(), kMagic, 8);
  PutU32(out.data() + 8, count);
  std::memcpy(out.data() + 12, fingerprint.data(), 32);
  std::copy(bits.begin(), bits.end(), out.begin() + kHeader);  // bits may be empty (no extents)
  PutU32(out.data() + kHeader + bits.size(), Crc(std::span(out).first(kHeader + bits.size())));
  std::string tmp = path + ".tmp";
  RETURN_IF_ERROR(WriteFile(tmp, out));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError(errno, "rename " + tmp);
  return Ok();
}

}  // namespace tessera::storage::cache_internal
