// Creating Tessera layers: a directory or an OCI layer tar becomes one blob (chunked,
// deduplicated, compressed) plus a bootstrap (docs/format.md).
//
// Thread-safety: CreateLayer is reentrant; it compresses on its own thread pool.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tessera/common/codec.h"
#include "tessera/common/io.h"
#include "tessera/common/result.h"

namespace tessera::builder {

enum class ChunkingMode { kFixed, kCdc };

struct ChunkingOptions {
  ChunkingMode mode = ChunkingMode::kFixed;
  uint32_t chunk_size = 1u << 20;  // fixed: the chunk size (power of two, 4 KiB..16 MiB)
  uint32_t min_size = 64u << 10;   // cdc: smallest chunk
  uint32_t avg_size = 256u << 10;  // cdc: target average, a power of two
  uint32_t max_size = 1u << 20;    // cdc: largest chunk
};

struct CreateOptions {
  std::string bootstrap;  // output bootstrap path
  std::string blob_dir;   // the blob is written here as <sha256>
  ChunkingOptions chunking;
  Codec codec = Codec::kZstd;
  int compression_level = 3;
  uint32_t frame_size = 1u << 20;           // small chunks are packed into frames of this size
  uint32_t inline_threshold = 512;          // files up to this size live in the bootstrap
  size_t threads = 0;                       // compression threads; 0 = one per core
  std::vector<std::string> chunk_dicts;     // earlier bootstraps whose chunks may be referenced
  std::vector<std::string> prefetch_paths;  // recorded in the prefetch table, in order
  int64_t build_time = 0;                   // superblock time (deterministic output)
  // Called now and then with (bytes read so far, total bytes if known or 0): file bytes for a
  // directory, archive bytes (compressed, as stored) for a tar.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct CreateSummary {
  uint64_t entries = 0;  // files, dirs, links... (names)
  uint64_t regular_files = 0;
  uint64_t bytes_in = 0;  // regular file bytes
  uint64_t chunks = 0;
  uint64_t unique_chunks = 0;  // stored in the new blob
  uint64_t layer_dedup = 0;
  uint64_t dict_dedup = 0;
  uint64_t zero_chunks = 0;
  uint64_t stored_bytes = 0;  // uncompressed bytes of stored chunks
  uint64_t blob_bytes = 0;    // size of the new blob file (0 if none)
  uint64_t bootstrap_bytes = 0;
  std::string blob_id;  // hex, empty if the layer needed no blob
  double seconds = 0;
};

// SOURCE is a directory, a tar file (plain, gzip or zstd: detected by magic), or "-" for a tar
// on stdin.
Result<CreateSummary> CreateLayer(const std::string& source, const CreateOptions& options);

// The same for a layer tar read from a stream (plain, gzip or zstd, detected by magic), in one
// pass with nothing extracted to disk: how `convert` feeds registry and layout layers to the
// builder. `name` names the stream in messages; `total` is its size if known (else 0) and
// progress then counts the stream's bytes. The stream is read up to the end of the archive,
// not necessarily to its end: a caller that verifies a digest at end-of-stream drains it.
Result<CreateSummary> CreateLayerFromStream(ByteStream& in, const std::string& name, uint64_t total,
                                            const CreateOptions& options);

}  // namespace tessera::builder
