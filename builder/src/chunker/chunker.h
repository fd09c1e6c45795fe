// Chunkers cut a file's byte stream into chunks: fixed-size (power of two) or content-defined
// (FastCDC-style gear hash with normalized chunking), so that an inserted byte changes only the
// chunks around it.
//
// Thread-safety: a chunker is used by one thread; it reads its stream as it goes and keeps at
// most max_size bytes buffered.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tessera/builder/create.h"
#include "tessera/common/io.h"
#include "tessera/common/result.h"

namespace tessera::builder {

// Validates sizes (fixed: power of two in [4 KiB, 16 MiB]; cdc: min < avg < max ≤ 16 MiB, avg a
// power of two, min ≥ 4 KiB).
Status ValidateChunking(const ChunkingOptions& options);

class Chunker {
 public:
  virtual ~Chunker() = default;
  // The next chunk (valid until the next call), or an empty span at the end of the input.
  virtual Result<std::span<const uint8_t>> Next() = 0;
};

// Reads exactly `size` bytes from `in` and cuts them per `options`.
std::unique_ptr<Chunker> MakeChunker(const ChunkingOptions& options, ByteStream& in, uint64_t size,
                                     std::string name);

// Content-defined cut point inside data (exposed for tests): the length of the first chunk.
size_t CdcCutPoint(std::span<const uint8_t> data, const ChunkingOptions& options);

}  // namespace tessera::builder
