// Bootstrap tables: the trailer after the EROFS data and the extension at byte 1152.
#include "tessera/storage/bootstrap.h"

#include <algorithm>
#include <cstring>

namespace tessera::storage {
namespace {

constexpr char kExtMagic[8] = {'T', 'S', 'R', 'B', 'O', 'O', 'T', '1'};
constexpr uint32_t kVersion = 1;

Error Corrupt(std::string what) {
  return MakeError(ErrorCode::kCorrupt, "bootstrap tables: " + std::move(what));
}

uint32_t Crc(std::span<const uint8_t> b) { return Crc32c(0xFFFFFFFF, b) ^ 0xFFFFFFFF; }

// Relative offsets of each table inside the trailer.
struct TableLayout {
  uint64_t blobs = 0, frames = 0, chunks = 0, extents = 0, prefetch = 0, end = 0;
};

TableLayout LayoutOf(uint64_t blobs, uint64_t frames, uint64_t chunks, uint64_t extents,
                     uint64_t prefetch) {
  TableLayout l;
  l.frames = l.blobs + blobs * kBlobEntrySize;
  l.chunks = l.frames + frames * kFrameEntrySize;
  l.extents = l.chunks + chunks * kChunkEntrySize;
  l.prefetch = l.extents + extents * kExtentEntrySize;
  l.end = l.prefetch + prefetch * 8;
  return l;
}

void EncodeBlob(const BlobInfo& b, uint8_t* p) {
  std::memset(p, 0, kBlobEntrySize);
  std::memcpy(p, b.id.data(), 32);
  PutU64(p + 32, b.compressed_size);
  PutU64(p + 40, b.raw_size);
  PutU32(p + 48, b.first_frame);
  PutU32(p + 52, b.frame_count);
  PutU32(p + 56, b.first_chunk);
  PutU32(p + 60, b.chunk_count);
  PutU32(p + 64, b.first_extent);
  PutU32(p + 68, b.extent_count);
}

BlobInfo DecodeBlob(const uint8_t* p) {
  BlobInfo b;
  std::memcpy(b.id.data(), p, 32);
  b.compressed_size = GetU64(p + 32);
  b.raw_size = GetU64(p + 40);
  b.first_frame = GetU32(p + 48);
  b.frame_count = GetU32(p + 52);
  b.first_chunk = GetU32(p + 56);
  b.chunk_count = GetU32(p + 60);
  b.first_extent = GetU32(p + 64);
  b.extent_count = GetU32(p + 68);
  return b;
}

bool RangeOk(uint64_t first, uint64_t count, uint64_t total) {
  return first <= total && count <= total - first;
}

}  // namespace

std::span<const ChunkEntry> BootstrapTables::BlobChunks(uint32_t blob) const {
  return std::span<const ChunkEntry>(chunks).subspan(blobs[blob].first_chunk,
                                                     blobs[blob].chunk_count);
}

std::span<const ExtentEntry> BootstrapTables::DeviceExtents(uint32_t blob) const {
  return std::span<const ExtentEntry>(extents).subspan(blobs[blob].first_extent,
                                                       blobs[blob].extent_count);
}

uint32_t BootstrapTables::BlobOfChunk(uint32_t chunk) const {
  for (uint32_t b = 0; b < blobs.size(); ++b) {
    if (chunk >= blobs[b].first_chunk && chunk - blobs[b].first_chunk < blobs[b].chunk_count) {
      return b;
    }
  }
  return static_cast<uint32_t>(blobs.size());
}

std::vector<uint8_t> EncodeTables(const BootstrapTables& t) {
  TableLayout l = LayoutOf(t.blobs.size(), t.frames.size(), t.chunks.size(), t.extents.size(),
                           t.prefetch.size());
  std::vector<uint8_t> out(l.end);
  for (size_t i = 0; i < t.blobs.size(); ++i)
    EncodeBlob(t.blobs[i], &out[l.blobs + i * kBlobEntrySize]);
  for (size_t i = 0; i < t.frames.size(); ++i)
    EncodeFrame(t.frames[i], &out[l.frames + i * kFrameEntrySize]);
  for (size_t i = 0; i < t.chunks.size(); ++i)
    EncodeChunk(t.chunks[i], &out[l.chunks + i * kChunkEntrySize]);
  for (size_t i = 0; i < t.extents.size(); ++i) {
    EncodeExtent(t.extents[i], &out[l.extents + i * kExtentEntrySize]);
  }
  for (size_t i = 0; i < t.prefetch.size(); ++i) PutU64(&out[l.prefetch + i * 8], t.prefetch[i]);
  return out;
}

void FillExtension(const BootstrapTables& t, uint64_t trailer_offset,
                   std::span<const uint8_t> trailer, std::span<uint8_t> ext) {
  TableLayout l = LayoutOf(t.blobs.size(), t.frames.size(), t.chunks.size(), t.extents.size(),
                           t.prefetch.size());
  std::fill(ext.begin(), ext.end(), 0);
  uint8_t* p = ext.data();
  std::memcpy(p, kExtMagic, 8);
  PutU32(p + 8, kVersion);
  PutU32(p + 16, static_cast<uint32_t>(t.blobs.size()));
  PutU32(p + 20, t.chunk_size);
  PutU64(p + 24, trailer_offset + l.blobs);
  PutU64(p + 32, trailer_offset + l.frames);
  PutU64(p + 40, trailer_offset + l.chunks);
  PutU64(p + 48, trailer_offset + l.extents);
  PutU64(p + 56, trailer_offset + l.prefetch);
  PutU32(p + 64, static_cast<uint32_t>(t.frames.size()));
  PutU32(p + 68, static_cast<uint32_t>(t.chunks.size()));
  PutU32(p + 72, static_cast<uint32_t>(t.extents.size()));
  PutU32(p + 76, static_cast<uint32_t>(t.prefetch.size()));
  PutU64(p + 80, trailer_offset + l.end);
  PutU32(p + 88, Crc(trailer.first(l.end)));
  PutU32(p + 252, Crc(ext.first(252)));
}

bool HasTesseraExtension(std::span<const uint8_t> image) {
  return image.size() >= kExtensionOffset + kExtensionSize &&
         std::memcmp(image.data() + kExtensionOffset, kExtMagic, 8) == 0;
}

namespace {

Status ValidateBlobs(const BootstrapTables& t) {
  for (uint32_t b = 0; b < t.blobs.size(); ++b) {
    const BlobInfo& info = t.blobs[b];
    std::string where = "blob " + std::to_string(b) + ": ";
    if (!RangeOk(info.first_frame, info.frame_count, t.frames.size()) ||
        !RangeOk(info.first_chunk, info.chunk_count, t.chunks.size()) ||
        !RangeOk(info.first_extent, info.extent_count, t.extents.size())) {
      return Corrupt(where + "table range out of bounds");
    }
    if (info.raw_size % kBlockSize != 0) return Corrupt(where + "raw size not block-aligned");
    for (uint32_t c = 0; c < info.chunk_count; ++c) {
      const ChunkEntry& chunk = t.chunks[info.first_chunk + c];
      if (chunk.frame >= info.frame_count) return Corrupt(where + "chunk frame out of range");
      const FrameEntry& f = t.frames[info.first_frame + chunk.frame];
      if (chunk.frame_offset > f.uncompressed_size ||
          chunk.size > f.uncompressed_size - chunk.frame_offset) {
        return Corrupt(where + "chunk " + std::to_string(c) + " outside its frame");
      }
    }
    uint64_t prev_end = 0;
    for (const ExtentEntry& e : t.DeviceExtents(b)) {
      if (e.raw_offset < prev_end || e.raw_offset > info.raw_size ||
          e.size > info.raw_size - e.raw_offset) {
        return Corrupt(where + "extent at raw offset " + std::to_string(e.raw_offset) +
                       " overlaps or lies past the device");
      }
      if (e.chunk >= t.chunks.size()) return Corrupt(where + "extent names a missing chunk");
      const ChunkEntry& chunk = t.chunks[e.chunk];
      if (e.chunk_offset > chunk.size || e.size > chunk.size - e.chunk_offset) {
        return Corrupt(where + "extent range outside its chunk");
      }
      prev_end = e.raw_offset + e.size;
    }
  }
  return Ok();
}

}  // namespace

Result<BootstrapTables> DecodeTables(std::span<const uint8_t> image) {
  if (!HasTesseraExtension(image)) return Corrupt("no Tessera extension at byte 1152");
  const uint8_t* p = image.data() + kExtensionOffset;
  if (GetU32(p + 252) != Crc(std::span<const uint8_t>(p, 252))) return Corrupt("extension crc");
  if (GetU32(p + 8) != kVersion) return MakeError(ErrorCode::kUnsupported, "bootstrap version");
  if (GetU32(p + 12) != 0) return MakeError(ErrorCode::kUnsupported, "bootstrap flags");
  BootstrapTables t;
  uint64_t blobs = GetU32(p + 16), frames = GetU32(p + 64), chunks = GetU32(p + 68),
           extents = GetU32(p + 72), prefetch = GetU32(p + 76);
  t.chunk_size = GetU32(p + 20);
  uint64_t base = GetU64(p + 24), end = GetU64(p + 80);
  TableLayout l = LayoutOf(blobs, frames, chunks, extents, prefetch);
  if (base > image.size() || end > image.size() || end < base || end - base != l.end ||
      GetU64(p + 32) != base + l.frames || GetU64(p + 40) != base + l.chunks ||
      GetU64(p + 48) != base + l.extents || GetU64(p + 56) != base + l.prefetch) {
    return Corrupt("table offsets inconsistent with counts or past the image");
  }
  std::span<const uint8_t> tr = image.subspan(base, l.end);
  if (GetU32(p + 88) != Crc(tr)) return Corrupt("tables crc mismatch");
  for (uint64_t i = 0; i < blobs; ++i)
    t.blobs.push_back(DecodeBlob(&tr[l.blobs + i * kBlobEntrySize]));
  for (uint32_t i = 0; i < frames; ++i) {
    TRY(FrameEntry f, DecodeFrame(&tr[l.frames + i * kFrameEntrySize], i));
    t.frames.push_back(f);
  }
  for (uint32_t i = 0; i < chunks; ++i) {
    TRY(ChunkEntry c, DecodeChunk(&tr[l.chunks + i * kChunkEntrySize], i));
    t.chunks.push_back(c);
  }
  for (uint32_t i = 0; i < extents; ++i) {
    TRY(ExtentEntry e, DecodeExtent(&tr[l.extents + i * kExtentEntrySize], i));
    t.extents.push_back(e);
  }
  for (uint64_t i = 0; i < prefetch; ++i) t.prefetch.push_back(GetU64(&tr[l.prefetch + i * 8]));
  RETURN_IF_ERROR(ValidateBlobs(t));
  return t;
}

Result<BootstrapTables> DecodeTablesChecked(std::span<const uint8_t> image,
                                            const std::vector<DeviceSlotView>& devices) {
  BootstrapTables t;
  if (HasTesseraExtension(image)) {
    TRY(t, DecodeTables(image));
  }
  if (devices.size() != t.blobs.size()) {
    return Corrupt("device table has " + std::to_string(devices.size()) +
                   " devices but the blob table " + std::to_string(t.blobs.size()) + " blobs");
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i].tag != t.blobs[i].IdHex() ||
        uint64_t{devices[i].blocks} * kBlockSize != t.blobs[i].raw_size) {
      return Corrupt("device " + std::to_string(i + 1) + ": tag or size differs from blob " +
                     t.blobs[i].IdHex());
    }
  }
  return t;
}

}  // namespace tessera::storage
