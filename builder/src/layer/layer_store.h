// LayerStore: the ContentStore that makes a Tessera layer. Small files stay inline in the
// bootstrap; larger files are chunked, each chunk's sha256 is looked up in this layer and in
// the chunk dictionary, and only new chunks are stored in the layer's blob. File data is placed
// on the layer's raw device (docs/format.md §1) through extents.
//
// Thread-safety: used by the one thread that drives the import; the blob writer compresses
// on its own pool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "chunker/chunker.h"
#include "content/content_store.h"
#include "layer/chunk_dict.h"

#include "tessera/storage/blob.h"
#include "tessera/storage/bootstrap.h"

namespace tessera::builder {

struct LayerOptions {
  ChunkingOptions chunking;
  uint32_t inline_threshold = 512;  // files up to this size stay in the bootstrap
  storage::BlobWriterOptions blob;
  std::string blob_dir;
  const ChunkDict* dict = nullptr;
};

struct LayerStats {
  uint64_t files_chunked = 0;
  uint64_t files_inline = 0;
  uint64_t bytes_in = 0;       // regular file bytes seen
  uint64_t chunks = 0;         // chunks cut
  uint64_t unique_chunks = 0;  // chunks stored in this layer's blob
  uint64_t layer_dedup = 0;    // chunks found earlier in this layer
  uint64_t dict_dedup = 0;     // chunks found in the chunk dictionary
  uint64_t zero_chunks = 0;    // all-zero chunks stored as holes
  uint64_t stored_bytes = 0;   // uncompressed bytes of the stored chunks
};

// What a finished layer contributes to its bootstrap.
struct LayerResult {
  storage::BootstrapTables tables;  // blob 0 = this layer's blob; then dictionary blobs used
  std::string blob_path;            // empty if the layer needed no blob
  LayerStats stats;
};

class LayerStore final : public ContentStore {
 public:
  static Result<std::unique_ptr<LayerStore>> Create(const LayerOptions& options);
  ~LayerStore() override;

  Result<StoredContent> Ingest(ByteStream& in, uint64_t size, const std::string& path) override;

  // Writes the blob (if any) and builds the tables. The tree's chunked files refer to device 1.
  Result<LayerResult> Finish();

  const LayerStats& stats() const { return stats_; }

 private:
  explicit LayerStore(const LayerOptions& options) : options_(options) {}

  // Where a stored chunk lives: slot 0 = this layer's blob, slot k = dictionary blob k - 1.
  struct ChunkLoc {
    uint32_t slot = 0;
    uint32_t chunk = 0;
  };
  Result<ChunkLoc> Store(std::span<const uint8_t> chunk, const Sha256Digest& digest);
  Result<StoredContent> IngestFixed(Chunker& chunker, uint64_t size);
  Result<StoredContent> IngestCdc(Chunker& chunker, uint64_t size);
  uint64_t AllocateRaw(uint64_t size);
  uint8_t ChunkBits() const;

  struct PendingExtent {
    uint64_t raw_offset;
    uint32_t size;
    ChunkLoc loc;
  };

  LayerOptions options_;
  std::unique_ptr<storage::BlobWriter> writer_;
  uint64_t raw_cursor_ = 0;
  std::vector<PendingExtent> extents_;
  std::unordered_map<Sha256Digest, uint64_t, DigestHash> raw_by_digest_;  // fixed mode sharing
  std::vector<uint32_t> dict_slot_;  // dictionary blob -> slot (0 = unused)
  std::vector<uint32_t> slot_dict_;  // slot - 1 -> dictionary blob
  LayerStats stats_;
};

}  // namespace tessera::builder
