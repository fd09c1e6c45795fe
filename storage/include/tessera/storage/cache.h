// The blob cache: on-demand loading of a blob's raw device into a local cache file.
//
// Each device (blob) with data placed on it has a cache file <dir>/<blob id>.raw laid out
// exactly like its raw device (docs/format.md §1; what `tessera-image export` writes), so a
// fully cached image can also be mounted by the kernel. Readiness is tracked per extent in a
// bitmap persisted as <dir>/<blob id>.bitmap (with a fingerprint of the extent table and a
// checksum; anything that does not match is discarded and rebuilt). A read of raw bytes:
//   ready extents  -> pread from the cache file (verified once per process against the chunk
//                     digest, so a damaged cache file is detected and re-fetched; a background
//                     thread checks the extents just past each read, off the reader's path);
//   missing ones   -> their frames are fetched from the backend (concurrent misses on one frame
//                     share one request; adjacent frames are merged into one backend read up to
//                     merge_limit), decompressed, every chunk verified, the extents written, then
//                     marked ready. A bad chunk is never written or marked; the read fails.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/result.h"
#include "tessera/storage/bootstrap.h"

namespace tessera::storage {

// Where compressed blob bytes come from (a directory, a registry, ...).
class BlobBackend {
 public:
  virtual ~BlobBackend() = default;
  virtual std::string Name() const = 0;
  // Reads out.size() bytes of the blob at offset (compressed blob-file offsets).
  virtual Status Read(const BlobInfo& blob, uint64_t offset, std::span<uint8_t> out) = 0;
};

// Blobs as files <dir>/<hex id>.
std::unique_ptr<BlobBackend> MakeLocalFsBackend(std::string dir);

// Receives events for metrics; every method may be called from any thread.
class CacheObserver {
 public:
  virtual ~CacheObserver() = default;
  virtual void BackendRead(uint64_t /*bytes*/, std::chrono::nanoseconds /*latency*/, bool /*ok*/) {}
  virtual void CacheHit(uint64_t /*bytes*/) {}
  virtual void CacheMiss(uint64_t /*bytes*/) {}
  virtual void ChunkCorrupt() {}
  virtual void VerifiedAhead(uint64_t /*extents*/) {}  // checked by the verify-ahead thread
  virtual void ExtentsReady(uint64_t /*count*/) {}
  virtual void Evicted(uint64_t /*bytes*/) {}
};

struct CacheOptions {
  std::string dir;
  uint64_t merge_limit = 1u << 20;  // largest merged backend read (compressed bytes)
  bool verify_cached = true;        // check cached extents against their digest once
  // With verify_cached: a background thread checks cached extents up to this many raw bytes past
  // each read, in device order, so a sequential reader finds them verified (0: off).
  uint64_t verify_ahead_bytes = 4u << 20;
};

struct CacheUsage {
  uint64_t extents_total = 0;
  uint64_t extents_ready = 0;
  uint64_t bytes_total = 0;  // extent bytes
  uint64_t bytes_ready = 0;
};

class BlobCache {
 public:
  static Result<std::unique_ptr<BlobCache>> Open(std::shared_ptr<const BootstrapTables> tables,
                                                 std::shared_ptr<BlobBackend> backend,
                                                 const CacheOptions& options,
                                                 CacheObserver* observer = nullptr);
  ~BlobCache();

  // Raw-device bytes of device `blob` (0-based blob index) at offset.
  Status ReadRaw(uint32_t blob, uint64_t offset, std::span<uint8_t> out);
  // The same bytes only if every extent is cached: never reads the backend (kUnavailable
  // otherwise). Cached extents are verified as for ReadRaw; a damaged one is dropped.
  Status ReadRawCached(uint32_t blob, uint64_t offset, std::span<uint8_t> out);
  // Makes [offset, offset + length) of a device ready without copying it anywhere.
  Status Fetch(uint32_t blob, uint64_t offset, uint64_t length);
  // Persists the ready bitmaps (after syncing the cache files).
  Status Flush();
  CacheUsage Usage() const;
  // Frees up to `bytes` of cached data (punching holes in the cache files), taking extents not
  // read since the previous call first (second chance). Evicted extents are fetched again on
  // the next read. Returns the bytes freed.
  uint64_t EvictCold(uint64_t bytes);
  // Cache file paths, in device order (empty string for a device with no data).
  std::vector<std::string> CacheFiles() const;

 private:
  struct Impl;
  explicit BlobCache(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::storage
