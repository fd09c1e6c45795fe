// Reading a blob's raw device (docs/format.md §1) through a bootstrap's extent map: the bytes
// the kernel would read from `device=RAW` once the blob is fully decompressed.
//
// BlobProvider opens blob files by id (a directory here; registries and caches later).
// RawDevice is a ByteSource: a read finds the extents it covers, fetches each chunk's frame from
// the blob that stores it, decompresses it, verifies the chunk's sha256 and copies the bytes;
// bytes no extent covers read as zeros. Wrong data is never returned: a bad chunk is kCorrupt.
//
// Thread-safety: RawDevice::ReadAt may be called concurrently (a small frame cache is locked).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/storage/bootstrap.h"

namespace tessera::storage {

class BlobProvider {
 public:
  virtual ~BlobProvider() = default;
  // A source for the blob's file bytes; fails if it is missing or its size is wrong.
  virtual Result<std::shared_ptr<const ByteSource>> Open(const BlobInfo& blob) = 0;
};

// Blobs stored as <dir>/<hex id>; opened once and kept.
class DirBlobProvider final : public BlobProvider {
 public:
  explicit DirBlobProvider(std::string dir) : dir_(std::move(dir)) {}
  Result<std::shared_ptr<const ByteSource>> Open(const BlobInfo& blob) override;

 private:
  std::string dir_;
  std::mutex mu_;
  std::vector<std::pair<Sha256Digest, std::shared_ptr<const ByteSource>>> open_;
};

// Fetches, decompresses and verifies stored chunks, caching a few recent frames.
class ChunkFetcher {
 public:
  ChunkFetcher(std::shared_ptr<const BootstrapTables> tables, BlobProvider& provider);
  // The verified bytes of global chunk `chunk`.
  Result<std::shared_ptr<const std::vector<uint8_t>>> FetchFrameOf(uint32_t chunk,
                                                                   uint32_t* offset_in_frame);
  const BootstrapTables& tables() const { return *tables_; }

 private:
  std::shared_ptr<const BootstrapTables> tables_;
  BlobProvider& provider_;
  std::vector<uint32_t> blob_of_chunk_;
  std::vector<std::vector<uint32_t>> chunks_of_frame_;  // global frame -> global chunks
  std::mutex mu_;                                       // guards cache_
  std::list<std::pair<uint64_t, std::shared_ptr<const std::vector<uint8_t>>>> cache_;
};

class RawDevice final : public ByteSource {
 public:
  RawDevice(ChunkFetcher& fetcher, uint32_t blob);
  uint64_t Size() const override;
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override;

 private:
  ChunkFetcher& fetcher_;
  uint32_t blob_;
};

}  // namespace tessera::storage
