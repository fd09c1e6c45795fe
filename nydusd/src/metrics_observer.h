// DaemonMetrics: what the cache and the FUSE loop report, kept in a MetricsRegistry and
// rendered for GET /api/v1/metrics (names prefixed tessera_).
//
// Thread-safety: every method may be called from any thread (atomic series).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "fuse/fuse_server.h"

#include "tessera/common/metrics.h"
#include "tessera/storage/cache.h"
#include "tessera/storage/registry_backend.h"

namespace tessera::nydusd {

class DaemonMetrics final : public storage::CacheObserver,
                            public storage::RegistryObserver,
                            public FuseObserver {
 public:
  DaemonMetrics();

  void BackendRead(uint64_t bytes, std::chrono::nanoseconds latency, bool ok) override;
  void CacheHit(uint64_t bytes) override;
  void CacheMiss(uint64_t bytes) override;
  void ChunkCorrupt() override { corrupt_->Inc(); }
  void VerifiedAhead(uint64_t count) override { verified_ahead_->Inc(count); }
  void ExtentsReady(uint64_t count) override { extents_ready_->Inc(count); }
  void Evicted(uint64_t bytes) override { evicted_->Inc(bytes); }
  void Op(const char* name, std::chrono::nanoseconds latency, bool ok) override;
  void BytesRead(uint64_t bytes) override { read_bytes_->Inc(bytes); }
  void Pushed(uint64_t bytes) override {
    pushed_files_->Inc();
    pushed_bytes_->Inc(bytes);
  }
  void UringRequest() override { uring_requests_->Inc(); }
  void OnRegistryEvent(storage::RegistryEvent event) override;

  void SetCacheBytes(uint64_t bytes) { cache_bytes_->Set(static_cast<int64_t>(bytes)); }
  // Values computed at scrape time from the mounts.
  struct Snapshot {
    uint64_t chunks_ready = 0, chunks_total = 0;
    uint64_t prefetch_bytes = 0, prefetch_files_done = 0, prefetch_files_total = 0;
  };
  void SetSnapshot(const Snapshot& s);
  MetricsRegistry& registry() { return registry_; }
  std::string Render() const { return registry_.RenderPrometheus(); }

 private:
  static constexpr int kOps = 10;
  static int OpIndex(const char* name);

  MetricsRegistry registry_;
  Counter *backend_requests_, *backend_bytes_, *backend_errors_;
  Histogram* backend_latency_;
  Counter *cache_hits_, *cache_misses_, *cache_hit_bytes_, *cache_miss_bytes_;
  Counter *corrupt_, *extents_ready_, *read_bytes_, *evicted_, *verified_ahead_;
  Counter *pushed_files_, *pushed_bytes_, *uring_requests_;
  Gauge* cache_bytes_;
  Counter *registry_requests_, *registry_retries_, *registry_hedges_, *registry_hedges_won_;
  Counter *registry_failovers_, *registry_errors_;
  Gauge *chunks_ready_, *chunks_total_, *prefetch_bytes_, *prefetch_done_, *prefetch_total_;
  Histogram* op_latency_[kOps];
  Counter* op_errors_[kOps];
};

}  // namespace tessera::nydusd
