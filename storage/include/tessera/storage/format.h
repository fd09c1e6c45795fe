// The Tessera blob and bootstrap-table format (docs/format.md): decoded value types and their
// byte encodings.
//
// Decoders take untrusted bytes and validate every field they read (sizes, ordering, overflow);
// they return kCorrupt/kUnsupported with a context naming the table, entry index and field.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/codec.h"
#include "tessera/common/digest.h"
#include "tessera/common/result.h"

namespace tessera::storage {

inline constexpr uint32_t kBlockSize = 4096;
inline constexpr uint32_t kFooterSize = 128;
inline constexpr uint32_t kFrameEntrySize = 24;
inline constexpr uint32_t kChunkEntrySize = 48;
inline constexpr uint32_t kExtentEntrySize = 24;
inline constexpr uint32_t kBlobEntrySize = 96;
inline constexpr uint32_t kExtensionOffset = 1152;
inline constexpr uint32_t kExtensionSize = 256;
inline constexpr uint32_t kMaxChunkSize = 16u << 20;
inline constexpr uint32_t kMaxFrameSize = 32u << 20;

// §2.1: a compressed frame inside a blob file.
struct FrameEntry {
  uint64_t compressed_offset = 0;
  uint32_t compressed_size = 0;
  uint32_t uncompressed_size = 0;
  Codec codec = Codec::kNone;
  bool operator==(const FrameEntry&) const = default;
};

// §2.2: a stored chunk: its digest and where its bytes lie inside a frame.
struct ChunkEntry {
  Sha256Digest digest{};
  uint32_t frame = 0;
  uint32_t frame_offset = 0;
  uint32_t size = 0;
  bool operator==(const ChunkEntry&) const = default;
};

// §3.2: a range of a stored chunk placed on a blob's raw device.
struct ExtentEntry {
  uint64_t raw_offset = 0;
  uint32_t size = 0;
  uint32_t chunk = 0;  // index into the bootstrap's whole chunk table
  uint32_t chunk_offset = 0;
  bool operator==(const ExtentEntry&) const = default;
};

// The frames and chunks one blob stores (its meta).
struct BlobMeta {
  std::vector<FrameEntry> frames;
  std::vector<ChunkEntry> chunks;
};

// §2.4: decoded footer.
struct BlobFooter {
  uint64_t meta_offset = 0;
  uint64_t meta_compressed_size = 0;
  uint64_t meta_uncompressed_size = 0;
  uint32_t frame_count = 0;
  uint32_t chunk_count = 0;
  uint64_t uncompressed_bytes = 0;
  Codec meta_codec = Codec::kZstd;
  Sha256Digest meta_digest{};
};

std::array<uint8_t, kFooterSize> EncodeFooter(const BlobFooter& footer);
// Validates magic, version, flags and crc; blob_size is the whole file's size.
Result<BlobFooter> DecodeFooter(std::span<const uint8_t> bytes, uint64_t blob_size);

// Meta = frame entries then chunk entries (uncompressed form).
std::vector<uint8_t> EncodeMeta(const BlobMeta& meta);
// Checks entry invariants: frames sorted and inside [0, data_end), chunks inside their frames.
Result<BlobMeta> DecodeMeta(std::span<const uint8_t> bytes, uint32_t frame_count,
                            uint32_t chunk_count, uint64_t data_end);

void EncodeFrame(const FrameEntry& e, uint8_t* out);
void EncodeChunk(const ChunkEntry& e, uint8_t* out);
void EncodeExtent(const ExtentEntry& e, uint8_t* out);
Result<FrameEntry> DecodeFrame(const uint8_t* in, uint32_t index);
Result<ChunkEntry> DecodeChunk(const uint8_t* in, uint32_t index);
Result<ExtentEntry> DecodeExtent(const uint8_t* in, uint32_t index);

// Little-endian helpers used by the encoders.
inline void PutU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint16_t GetU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
inline uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | p[i];
  return v;
}
inline uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

}  // namespace tessera::storage
