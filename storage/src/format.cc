// Encoding and validation of blob footers, frame, chunk and extent entries (docs/format.md §2).
#include "tessera/storage/format.h"

#include <cstring>

namespace tessera::storage {
namespace {

constexpr char kFooterMagic[8] = {'T', 'S', 'R', 'B', 'L', 'O', 'B', '1'};
constexpr uint32_t kVersion = 1;

Error Corrupt(std::string what) { return MakeError(ErrorCode::kCorrupt, std::move(what)); }

bool KnownCodec(uint8_t c) { return c <= static_cast<uint8_t>(Codec::kLz4); }

uint32_t FooterCrc(std::span<const uint8_t> bytes) {
  return Crc32c(0xFFFFFFFF, bytes.first(124)) ^ 0xFFFFFFFF;
}

}  // namespace

std::array<uint8_t, kFooterSize> EncodeFooter(const BlobFooter& f) {
  std::array<uint8_t, kFooterSize> out{};
  uint8_t* p = out.data();
  std::memcpy(p, kFooterMagic, 8);
  PutU32(p + 8, kVersion);
  PutU32(p + 12, 0);
  PutU64(p + 16, f.meta_offset);
  PutU64(p + 24, f.meta_compressed_size);
  PutU64(p + 32, f.meta_uncompressed_size);
  PutU32(p + 40, f.frame_count);
  PutU32(p + 44, f.chunk_count);
  PutU64(p + 48, f.uncompressed_bytes);
  p[56] = static_cast<uint8_t>(f.meta_codec);
  std::memcpy(p + 60, f.meta_digest.data(), 32);
  PutU32(p + 124, FooterCrc(out));
  return out;
}

Result<BlobFooter> DecodeFooter(std::span<const uint8_t> b, uint64_t blob_size) {
  if (b.size() != kFooterSize) return Corrupt("blob footer: need 128 bytes");
  const uint8_t* p = b.data();
  if (std::memcmp(p, kFooterMagic, 8) != 0) return Corrupt("blob footer: bad magic");
  if (GetU32(p + 124) != FooterCrc(b)) return Corrupt("blob footer: crc mismatch");
  if (GetU32(p + 8) != kVersion) {
    return MakeError(ErrorCode::kUnsupported,
                     "blob footer: version " + std::to_string(GetU32(p + 8)) + " (know 1)");
  }
  if (GetU32(p + 12) != 0) return MakeError(ErrorCode::kUnsupported, "blob footer: unknown flags");
  BlobFooter f;
  f.meta_offset = GetU64(p + 16);
  f.meta_compressed_size = GetU64(p + 24);
  f.meta_uncompressed_size = GetU64(p + 32);
  f.frame_count = GetU32(p + 40);
  f.chunk_count = GetU32(p + 44);
  f.uncompressed_bytes = GetU64(p + 48);
  if (!KnownCodec(p[56])) return Corrupt("blob footer: unknown meta codec");
  f.meta_codec = static_cast<Codec>(p[56]);
  std::memcpy(f.meta_digest.data(), p + 60, 32);
  if (blob_size < kFooterSize || f.meta_offset > blob_size - kFooterSize ||
      f.meta_compressed_size != blob_size - kFooterSize - f.meta_offset) {
    return Corrupt("blob footer: meta range [" + std::to_string(f.meta_offset) + ", +" +
                   std::to_string(f.meta_compressed_size) + ") does not end at the footer (blob " +
                   std::to_string(blob_size) + " bytes)");
  }
  uint64_t expect =
      uint64_t{f.frame_count} * kFrameEntrySize + uint64_t{f.chunk_count} * kChunkEntrySize;
  if (f.meta_uncompressed_size != expect) {
    return Corrupt("blob footer: meta size " + std::to_string(f.meta_uncompressed_size) +
                   " != entries' " + std::to_string(expect));
  }
  return f;
}

void EncodeFrame(const FrameEntry& e, uint8_t* out) {
  std::memset(out, 0, kFrameEntrySize);
  PutU64(out, e.compressed_offset);
  PutU32(out + 8, e.compressed_size);
  PutU32(out + 12, e.uncompressed_size);
  out[16] = static_cast<uint8_t>(e.codec);
}

void EncodeChunk(const ChunkEntry& e, uint8_t* out) {
  std::memset(out, 0, kChunkEntrySize);
  std::memcpy(out, e.digest.data(), 32);
  PutU32(out + 32, e.frame);
  PutU32(out + 36, e.frame_offset);
  PutU32(out + 40, e.size);
}

void EncodeExtent(const ExtentEntry& e, uint8_t* out) {
  std::memset(out, 0, kExtentEntrySize);
  PutU64(out, e.raw_offset);
  PutU32(out + 8, e.size);
  PutU32(out + 12, e.chunk);
  PutU32(out + 16, e.chunk_offset);
}

Result<FrameEntry> DecodeFrame(const uint8_t* in, uint32_t index) {
  std::string where = "frame " + std::to_string(index) + ": ";
  FrameEntry e;
  e.compressed_offset = GetU64(in);
  e.compressed_size = GetU32(in + 8);
  e.uncompressed_size = GetU32(in + 12);
  if (!KnownCodec(in[16])) return Corrupt(where + "unknown codec " + std::to_string(in[16]));
  e.codec = static_cast<Codec>(in[16]);
  if (e.compressed_size == 0 || e.uncompressed_size == 0) return Corrupt(where + "zero size");
  if (e.uncompressed_size > kMaxFrameSize) return Corrupt(where + "uncompressed size too large");
  if (e.codec == Codec::kNone && e.compressed_size != e.uncompressed_size) {
    return Corrupt(where + "raw frame with compressed size != uncompressed size");
  }
  return e;
}

Result<ChunkEntry> DecodeChunk(const uint8_t* in, uint32_t index) {
  ChunkEntry e;
  std::memcpy(e.digest.data(), in, 32);
  e.frame = GetU32(in + 32);
  e.frame_offset = GetU32(in + 36);
  e.size = GetU32(in + 40);
  if (e.size == 0 || e.size > kMaxChunkSize) {
    return Corrupt("chunk " + std::to_string(index) + ": bad size " + std::to_string(e.size));
  }
  return e;
}

Result<ExtentEntry> DecodeExtent(const uint8_t* in, uint32_t index) {
  ExtentEntry e;
  e.raw_offset = GetU64(in);
  e.size = GetU32(in + 8);
  e.chunk = GetU32(in + 12);
  e.chunk_offset = GetU32(in + 16);
  if (e.size == 0) return Corrupt("extent " + std::to_string(index) + ": zero size");
  return e;
}

std::vector<uint8_t> EncodeMeta(const BlobMeta& meta) {
  std::vector<uint8_t> out(meta.frames.size() * kFrameEntrySize +
                           meta.chunks.size() * kChunkEntrySize);
  uint8_t* p = out.data();
  for (const auto& f : meta.frames) {
    EncodeFrame(f, p);
    p += kFrameEntrySize;
  }
  for (const auto& c : meta.chunks) {
    EncodeChunk(c, p);
    p += kChunkEntrySize;
  }
  return out;
}

Result<BlobMeta> DecodeMeta(std::span<const uint8_t> bytes, uint32_t frame_count,
                            uint32_t chunk_count, uint64_t data_end) {
  uint64_t need = uint64_t{frame_count} * kFrameEntrySize + uint64_t{chunk_count} * kChunkEntrySize;
  if (bytes.size() != need) return Corrupt("blob meta: size mismatch");
  BlobMeta meta;
  meta.frames.reserve(frame_count);
  meta.chunks.reserve(chunk_count);
  const uint8_t* p = bytes.data();
  uint64_t prev_end = 0;
  for (uint32_t i = 0; i < frame_count; ++i, p += kFrameEntrySize) {
    TRY(FrameEntry f, DecodeFrame(p, i));
    if (f.compressed_offset < prev_end || f.compressed_offset > data_end ||
        f.compressed_size > data_end - f.compressed_offset) {
      return Corrupt("frame " + std::to_string(i) + ": compressed range [" +
                     std::to_string(f.compressed_offset) + ", +" +
                     std::to_string(f.compressed_size) + ") out of order or past the data");
    }
    prev_end = f.compressed_offset + f.compressed_size;
    meta.frames.push_back(f);
  }
  for (uint32_t i = 0; i < chunk_count; ++i, p += kChunkEntrySize) {
    TRY(ChunkEntry c, DecodeChunk(p, i));
    if (c.frame >= frame_count)
      return Corrupt("chunk " + std::to_string(i) + ": frame out of range");
    const FrameEntry& f = meta.frames[c.frame];
    if (c.frame_offset > f.uncompressed_size || c.size > f.uncompressed_size - c.frame_offset) {
      return Corrupt("chunk " + std::to_string(i) + ": lies outside frame " +
                     std::to_string(c.frame));
    }
    meta.chunks.push_back(c);
  }
  return meta;
}

}  // namespace tessera::storage
