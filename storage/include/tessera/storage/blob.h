// Writing and reading blob files (docs/format.md §2).
//
// BlobWriter packs chunks into frames, compresses frames on a thread pool (output order and
// bytes do not depend on the thread count), deduplicates chunks by digest within the blob and
// names the finished file by its sha256. BlobReader validates a blob's footer and meta and
// reads frames and digest-verified chunks.
//
// Thread-safety: BlobWriter is used from one thread (it runs its own workers). BlobReader's
// const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/codec.h"
#include "tessera/common/digest.h"
#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/storage/format.h"

namespace tessera::storage {

struct BlobWriterOptions {
  Codec codec = Codec::kZstd;
  int level = 9;                   // zstd 1..22; lz4: 0 fast, >0 HC
  uint32_t frame_size = 1u << 20;  // pack chunks smaller than this into shared frames
  size_t threads = 0;              // 0: one per core
  Codec meta_codec = Codec::kZstd;
};

struct BlobResult {
  Sha256Digest id{};
  std::string path;  // final path: <dir>/<hex id>
  uint64_t compressed_size = 0;
  uint64_t uncompressed_bytes = 0;
  BlobMeta meta;
};

class BlobWriter {
 public:
  // Writes into a temporary file in `dir`; Finish renames it to <dir>/<blob id>.
  static Result<std::unique_ptr<BlobWriter>> Create(const std::string& dir,
                                                    const BlobWriterOptions& options);
  ~BlobWriter();

  // Stores a chunk unless one with the same digest is already in this blob; returns its index.
  Result<uint32_t> AddChunk(std::span<const uint8_t> data, const Sha256Digest& digest);
  // Index of an already stored chunk with this digest.
  std::optional<uint32_t> Find(const Sha256Digest& digest) const;
  uint32_t chunk_count() const;

  // Flushes frames, writes meta and footer, fsyncs and renames. The writer is spent after.
  Result<BlobResult> Finish();

 private:
  struct Impl;
  explicit BlobWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class BlobReader {
 public:
  // Reads and validates footer and meta.
  static Result<BlobReader> Open(std::shared_ptr<const ByteSource> source, std::string name);

  const BlobFooter& footer() const { return footer_; }
  const BlobMeta& meta() const { return meta_; }
  const std::string& name() const { return name_; }

  // Decompressed bytes of one frame (not verified: verify the chunks in it).
  Result<std::vector<uint8_t>> ReadFrame(uint32_t frame) const;
  // One chunk's bytes, verified against its digest.
  Result<std::vector<uint8_t>> ReadChunk(uint32_t chunk) const;

 private:
  BlobReader() = default;
  std::shared_ptr<const ByteSource> source_;
  std::string name_;
  BlobFooter footer_;
  BlobMeta meta_;
};

// Decompresses a frame's compressed bytes (shared by the reader, the checker and the daemon).
Result<std::vector<uint8_t>> DecodeFrameBytes(const FrameEntry& frame,
                                              std::span<const uint8_t> compressed);
// Checks a chunk's bytes inside its decompressed frame against the chunk's digest.
Status VerifyChunk(const ChunkEntry& chunk, std::span<const uint8_t> frame_bytes,
                   uint32_t chunk_index);

}  // namespace tessera::storage
