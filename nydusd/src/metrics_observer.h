// DaemonMetrics: counts what the cache and the FUSE loop report, for GET /api/v1/metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "fuse/fuse_server.h"

#include "tessera/storage/cache.h"

namespace tessera::nydusd {

class DaemonMetrics final : public storage::CacheObserver, public FuseObserver {
 public:
  void BackendRead(uint64_t bytes, std::chrono::nanoseconds latency, bool ok) override {
    ++backend_requests_;
    if (ok) {
      backend_bytes_ += bytes;
    } else {
      ++backend_errors_;
    }
    backend_ns_ += static_cast<uint64_t>(latency.count());
  }
  void CacheHit(uint64_t bytes) override { cache_hit_bytes_ += bytes, ++cache_hits_; }
  void CacheMiss(uint64_t bytes) override { cache_miss_bytes_ += bytes, ++cache_misses_; }
  void ChunkCorrupt() override { ++corrupt_chunks_; }
  void ExtentsReady(uint64_t count) override { extents_ready_ += count; }
  void Op(const char* name, std::chrono::nanoseconds latency, bool ok) override;
  void BytesRead(uint64_t bytes) override { read_bytes_ += bytes; }
  void Evicted(uint64_t bytes) override { evicted_bytes_ += bytes; }
  void SetCacheBytes(uint64_t bytes) { cache_bytes_ = bytes; }

  uint64_t backend_bytes() const { return backend_bytes_; }
  uint64_t backend_requests() const { return backend_requests_; }
  uint64_t backend_errors() const { return backend_errors_; }
  uint64_t corrupt_chunks() const { return corrupt_chunks_; }

  // Prometheus text lines for these counters (names prefixed tessera_).
  std::string Render() const;

 private:
  static constexpr int kOps = 12;
  static int OpIndex(const char* name);
  std::atomic<uint64_t> backend_requests_{0}, backend_bytes_{0}, backend_errors_{0}, backend_ns_{0};
  std::atomic<uint64_t> cache_hits_{0}, cache_misses_{0}, cache_hit_bytes_{0}, cache_miss_bytes_{0};
  std::atomic<uint64_t> corrupt_chunks_{0}, extents_ready_{0}, read_bytes_{0};
  std::atomic<uint64_t> evicted_bytes_{0}, cache_bytes_{0};
  std::atomic<uint64_t> op_count_[kOps] = {}, op_errors_[kOps] = {}, op_ns_[kOps] = {};
};

}  // namespace tessera::nydusd
