// The bootstrap layer: a one-file ustar archive, gzip-compressed, byte-for-byte reproducible.
// Unpacking accepts any tar (ustar, pax, GNU long names) but trusts none of its fields.
#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "gzip.h"

#include "tessera/oci/image.h"

namespace tessera::oci {
namespace {

constexpr size_t kBlock = 512;
// A bootstrap larger than this is not plausible; it bounds decompression of hostile layers.
constexpr size_t kMaxLayerBytes = size_t{1} << 30;

void PutOctal(uint8_t* field, size_t width, uint64_t value) {
  // width-1 octal digits, NUL-terminated, zero-padded.
  field[width - 1] = 0;
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<uint8_t>('0' + (value & 7));
    value >>= 3;
  }
}

void PutSize(uint8_t* field, uint64_t size) {
  if (size < (uint64_t{1} << 33)) {
    PutOctal(field, 12, size);
    return;
  }
  // GNU base-256: high bit of the first byte set, big-endian value in the rest.
  std::memset(field, 0, 12);
  field[0] = 0x80;
  for (int i = 11; i >= 4; --i) {
    field[i] = static_cast<uint8_t>(size & 0xff);
    size >>= 8;
  }
}

std::vector<uint8_t> BuildTar(std::span<const uint8_t> file) {
  std::vector<uint8_t> tar(kBlock, 0);
  uint8_t* h = tar.data();
  std::memcpy(h, tessera_image::kBootstrapPath.data(), tessera_image::kBootstrapPath.size());
  PutOctal(h + 100, 8, 0644);     // mode
  PutOctal(h + 108, 8, 0);        // uid
  PutOctal(h + 116, 8, 0);        // gid
  PutSize(h + 124, file.size());  // size
  PutOctal(h + 136, 12, 0);       // mtime
  h[156] = '0';                   // regular file
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memset(h + 148, ' ', 8);
  uint32_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += h[i];
  PutOctal(h + 148, 7, sum);
  h[155] = ' ';
  tar.insert(tar.end(), file.begin(), file.end());
  tar.resize(tar.size() + (kBlock - file.size() % kBlock) % kBlock, 0);
  tar.resize(tar.size() + 2 * kBlock, 0);  // end-of-archive marker
  return tar;
}

Error Corrupt(const std::string& what) {
  return MakeError(ErrorCode::kCorrupt, "bootstrap layer: " + what);
}

// A numeric header field: octal text (NUL/space terminated) or GNU base-256.
Result<uint64_t> ParseNumber(const uint8_t* field, size_t width, const std::string& what) {
  if (field[0] & 0x80) {
    uint64_t v = 0;
    if (field[0] != 0x80) return Corrupt(what + ": base-256 value out of range");
    for (size_t i = 1; i < width; ++i) {
      if (v >> 56) return Corrupt(what + ": base-256 value out of range");
      v = (v << 8) | field[i];
    }
    return v;
  }
  size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  uint64_t v = 0;
  bool any = false;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v >> 60) return Corrupt(what + ": octal value out of range");
    v = v * 8 + (field[i] - '0');
    any = true;
  }
  for (; i < width; ++i) {
    if (field[i] != 0 && field[i] != ' ') return Corrupt(what + ": not an octal number");
  }
  if (!any) return Corrupt(what + ": empty number");
  return v;
}

std::string FieldString(const uint8_t* field, size_t width) {
  size_t n = 0;
  while (n < width && field[n] != 0) ++n;
  return std::string(reinterpret_cast<const char*>(field), n);
}

std::string NormalizeName(std::string name) {
  while (name.starts_with("./")) name.erase(0, 2);
  while (name.starts_with("/")) name.erase(0, 1);
  return name;
}

// The "path" record of a pax extended header ("<len> path=<value>\n"), if any.
Result<std::string> PaxPath(std::span<const uint8_t> data) {
  std::string path;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t len = 0;
    size_t i = pos;
    while (i < data.size() && data[i] >= '0' && data[i] <= '9' && len < kMaxLayerBytes) {
      len = len * 10 + (data[i++] - '0');
    }
    if (i == pos || i >= data.size() || data[i] != ' ' || len <= i - pos ||
        len > data.size() - pos) {
      return Corrupt("malformed pax record");
    }
    std::string_view rec(reinterpret_cast<const char*>(data.data()) + i + 1, pos + len - i - 1);
    if (rec.empty() || rec.back() != '\n') return Corrupt("malformed pax record");
    if (rec.starts_with("path=")) path = std::string(rec.substr(5, rec.size() - 6));
    pos += len;
  }
  return path;
}

bool IsZeroBlock(const uint8_t* h) {
  return std::all_of(h, h + kBlock, [](uint8_t b) { return b == 0; });
}

Status CheckChecksum(const uint8_t* h, size_t offset) {
  TRY(uint64_t want, ParseNumber(h + 148, 8, "header checksum"));
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  if (sum != want) return Corrupt("header at offset " + std::to_string(offset) + ": bad checksum");
  return Ok();
}

Result<std::vector<uint8_t>> FindBootstrap(std::span<const uint8_t> tar) {
  std::optional<std::vector<uint8_t>> found;
  std::string next_name;  // from a pax 'x' or GNU 'L' header
  size_t pos = 0;
  while (true) {
    if (tar.size() - pos < kBlock)
      return Corrupt("archive truncated at offset " + std::to_string(pos));
    const uint8_t* h = tar.data() + pos;
    if (IsZeroBlock(h)) break;
    RETURN_IF_ERROR(CheckChecksum(h, pos));
    TRY(uint64_t size, ParseNumber(h + 124, 12, "entry size"));
    size_t data_at = pos + kBlock;
    if (size > tar.size() - data_at) {
      return Corrupt("entry at offset " + std::to_string(pos) + " runs past the archive end");
    }
    std::span<const uint8_t> data = tar.subspan(data_at, size);
    char type = static_cast<char>(h[156]);
    std::string name = FieldString(h, 100);
    if (std::memcmp(h + 257, "ustar", 5) == 0 && h[345] != 0) {
      name = FieldString(h + 345, 155) + "/" + name;
    }
    if (!next_name.empty()) name = std::exchange(next_name, {});
    if (type == 'x') {
      TRY(next_name, PaxPath(data));
    } else if (type == 'L') {
      next_name = FieldString(data.data(), data.size());
    } else if ((type == '0' || type == '\0') &&
               NormalizeName(name) == tessera_image::kBootstrapPath) {
      found.emplace(data.begin(), data.end());
    }
    size_t padded = (size + kBlock - 1) / kBlock * kBlock;
    pos = data_at + std::min<size_t>(padded, tar.size() - data_at);
  }
  if (!found) return Corrupt(std::string("no ") + std::string(tessera_image::kBootstrapPath));
  return std::move(*found);
}

}  // namespace

std::vector<uint8_t> PackBootstrapLayer(std::span<const uint8_t> bootstrap, std::string* diff_id) {
  std::vector<uint8_t> tar = BuildTar(bootstrap);
  if (diff_id != nullptr) *diff_id = DigestOf(tar);
  return internal::GzipCompress(tar);
}

Result<std::vector<uint8_t>> UnpackBootstrapLayer(std::span<const uint8_t> layer) {
  if (internal::IsGzip(layer)) {
    auto tar = internal::GzipDecompress(layer, kMaxLayerBytes);
    if (!tar) return tar.error().Wrap("bootstrap layer");
    return FindBootstrap(*tar);
  }
  return FindBootstrap(layer);
}

}  // namespace tessera::oci
