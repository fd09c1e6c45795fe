// The Tessera tables of a bootstrap (docs/format.md §3): blob table, frame and chunk tables,
// per-device extent maps and the prefetch table, stored in a trailer after the EROFS data and
// found through a 256-byte extension at byte 1152.
//
// Thread-safety: plain values and pure functions; a decoded BootstrapTables is immutable and
// may be shared between threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/digest.h"
#include "tessera/common/result.h"
#include "tessera/storage/format.h"

namespace tessera::storage {

struct BlobInfo {
  Sha256Digest id{};
  uint64_t compressed_size = 0;  // blob file size
  uint64_t raw_size = 0;         // raw-device size, a block multiple
  uint32_t first_frame = 0;
  uint32_t frame_count = 0;
  uint32_t first_chunk = 0;
  uint32_t chunk_count = 0;
  uint32_t first_extent = 0;
  uint32_t extent_count = 0;

  std::string IdHex() const { return ToHex(id); }
  bool operator==(const BlobInfo&) const = default;
};

struct BootstrapTables {
  uint32_t chunk_size = 0;
  std::vector<BlobInfo> blobs;
  std::vector<FrameEntry> frames;    // per blob, frame indexes relative to the blob
  std::vector<ChunkEntry> chunks;    // per blob
  std::vector<ExtentEntry> extents;  // per device, sorted by raw_offset
  std::vector<uint64_t> prefetch;    // nids

  // The chunks of blob b, and the frame a chunk (global index) lies in.
  std::span<const ChunkEntry> BlobChunks(uint32_t blob) const;
  std::span<const ExtentEntry> DeviceExtents(uint32_t blob) const;
  // Index of the blob that stores global chunk `chunk`, or blobs.size() if none.
  uint32_t BlobOfChunk(uint32_t chunk) const;
  const FrameEntry& FrameOf(uint32_t blob, const ChunkEntry& chunk) const {
    return frames[blobs[blob].first_frame + chunk.frame];
  }
};

// Serializes the tables (their trailer bytes, independent of where the trailer goes).
std::vector<uint8_t> EncodeTables(const BootstrapTables& tables);

// Fills the 256-byte extension for a trailer written at byte `trailer_offset` of the image.
void FillExtension(const BootstrapTables& tables, uint64_t trailer_offset,
                   std::span<const uint8_t> trailer, std::span<uint8_t> extension);

// True if the image carries a Tessera extension (magic at byte 1152).
bool HasTesseraExtension(std::span<const uint8_t> image);

// Decodes and validates the extension and tables of a whole bootstrap image: crcs, counts,
// per-blob ranges, frame/chunk containment, extents sorted, non-overlapping, inside raw_size and
// referring to existing chunks.
Result<BootstrapTables> DecodeTables(std::span<const uint8_t> image);

// DecodeTables for an image with the extension; empty tables for a plain EROFS image; then
// checks that the EROFS device table (tags, blocks) names exactly the blob table's blobs.
struct DeviceSlotView {
  std::string tag;
  uint32_t blocks = 0;
};
Result<BootstrapTables> DecodeTablesChecked(std::span<const uint8_t> image,
                                            const std::vector<DeviceSlotView>& devices);

}  // namespace tessera::storage
