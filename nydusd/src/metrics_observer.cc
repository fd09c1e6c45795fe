#include "metrics_observer.h"

#include <cstring>

namespace tessera::nydusd {
namespace {

constexpr const char* kOpNames[] = {"lookup",      "getattr",  "read",     "opendir",   "readdir",
                                    "readdirplus", "readlink", "getxattr", "listxattr", "other"};

// Registration with fixed, valid names cannot fail; a failure is a bug worth stopping for.
template <typename T>
T* Must(Result<T*> r) {
  if (!r) std::abort();
  return *r;
}

}  // namespace

DaemonMetrics::DaemonMetrics() {
  MetricsRegistry& r = registry_;
  backend_requests_ =
      Must(r.AddCounter("tessera_backend_requests_total", "Backend read requests."));
  backend_bytes_ = Must(r.AddCounter("tessera_backend_read_bytes_total",
                                     "Compressed bytes read from blob backends."));
  backend_errors_ = Must(r.AddCounter("tessera_backend_errors_total", "Failed backend reads."));
  backend_latency_ = Must(r.AddHistogram("tessera_backend_read_duration_seconds",
                                         "Latency of backend reads.", LatencyBuckets()));
  cache_hits_ = Must(r.AddCounter("tessera_cache_hits_total", "Raw reads served from the cache."));
  cache_misses_ =
      Must(r.AddCounter("tessera_cache_misses_total", "Raw reads that had to fetch chunks."));
  cache_hit_bytes_ = Must(r.AddCounter("tessera_cache_hit_bytes_total", "Bytes of cache hits."));
  cache_miss_bytes_ =
      Must(r.AddCounter("tessera_cache_miss_bytes_total", "Bytes of reads that fetched chunks."));
  corrupt_ = Must(r.AddCounter("tessera_chunk_corrupt_total",
                               "Chunks that failed their sha256 (never served)."));
  verified_ahead_ =
      Must(r.AddCounter("tessera_chunks_verified_ahead_total",
                        "Cached chunks verified ahead of readers (in the background)."));
  extents_ready_ =
      Must(r.AddCounter("tessera_chunks_fetched_total", "Chunks (extents) written to the cache."));
  read_bytes_ = Must(r.AddCounter("tessera_read_bytes_total", "File bytes returned to readers."));
  uring_requests_ = Must(
      r.AddCounter("tessera_fuse_uring_requests_total", "FUSE requests served over io_uring."));
  pushed_files_ = Must(r.AddCounter("tessera_fuse_pushed_files_total",
                                    "Small files stored into the page cache ahead of readers."));
  pushed_bytes_ = Must(r.AddCounter("tessera_fuse_pushed_bytes_total",
                                    "Bytes stored into the page cache ahead of readers."));
  evicted_ =
      Must(r.AddCounter("tessera_cache_evicted_bytes_total", "Cache bytes freed by eviction."));
  cache_bytes_ =
      Must(r.AddGauge("tessera_cache_bytes", "Bytes the cache directory holds on disk."));
  registry_requests_ =
      Must(r.AddCounter("tessera_registry_requests_total", "Range requests sent to registries."));
  registry_retries_ = Must(r.AddCounter("tessera_registry_retries_total",
                                        "Registry reads tried again after a transient failure."));
  registry_hedges_ = Must(r.AddCounter("tessera_registry_hedges_total",
                                       "Hedged (second) requests for slow registry reads."));
  registry_hedges_won_ = Must(
      r.AddCounter("tessera_registry_hedges_won_total", "Hedged requests whose answer was used."));
  registry_failovers_ = Must(r.AddCounter("tessera_registry_mirror_failovers_total",
                                          "Registry requests sent to a later endpoint (mirror)."));
  registry_errors_ =
      Must(r.AddCounter("tessera_registry_errors_total", "Registry reads that failed for good."));
  chunks_ready_ = Must(r.AddGauge("tessera_chunks_ready", "Chunks (extents) in the cache."));
  chunks_total_ = Must(r.AddGauge("tessera_chunks_total", "Chunks (extents) of served images."));
  prefetch_bytes_ = Must(r.AddGauge("tessera_prefetch_bytes", "File bytes read by prefetch."));
  prefetch_done_ = Must(r.AddGauge("tessera_prefetch_files_done", "Prefetch list files done."));
  prefetch_total_ = Must(r.AddGauge("tessera_prefetch_files_total", "Prefetch list files."));
  for (int i = 0; i < kOps; ++i) {
    MetricLabels labels = {{"op", kOpNames[i]}};
    op_latency_[i] =
        Must(r.AddHistogram("tessera_fuse_op_duration_seconds",
                            "FUSE requests by operation and latency.", LatencyBuckets(), labels));
    op_errors_[i] = Must(
        r.AddCounter("tessera_fuse_errors_total", "FUSE requests answered with an error.", labels));
  }
}

void DaemonMetrics::SetSnapshot(const Snapshot& s) {
  chunks_ready_->Set(static_cast<int64_t>(s.chunks_ready));
  chunks_total_->Set(static_cast<int64_t>(s.chunks_total));
  prefetch_bytes_->Set(static_cast<int64_t>(s.prefetch_bytes));
  prefetch_done_->Set(static_cast<int64_t>(s.prefetch_files_done));
  prefetch_total_->Set(static_cast<int64_t>(s.prefetch_files_total));
}

int DaemonMetrics::OpIndex(const char* name) {
  for (int i = 0; i < kOps - 1; ++i) {
    if (std::strcmp(kOpNames[i], name) == 0) return i;
  }
  return kOps - 1;
}

void DaemonMetrics::BackendRead(uint64_t bytes, std::chrono::nanoseconds latency, bool ok) {
  backend_requests_->Inc();
  if (ok) {
    backend_bytes_->Inc(bytes);
  } else {
    backend_errors_->Inc();
  }
  backend_latency_->ObserveDuration(latency);
}

void DaemonMetrics::OnRegistryEvent(storage::RegistryEvent event) {
  using E = storage::RegistryEvent;
  switch (event) {
    case E::kRequest:
      registry_requests_->Inc();
      break;
    case E::kRetry:
      registry_retries_->Inc();
      break;
    case E::kHedge:
      registry_hedges_->Inc();
      break;
    case E::kHedgeWon:
      registry_hedges_won_->Inc();
      break;
    case E::kFailover:
      registry_failovers_->Inc();
      break;
    case E::kError:
      registry_errors_->Inc();
      break;
  }
}

void DaemonMetrics::CacheHit(uint64_t bytes) {
  cache_hits_->Inc();
  cache_hit_bytes_->Inc(bytes);
}

void DaemonMetrics::CacheMiss(uint64_t bytes) {
  cache_misses_->Inc();
  cache_miss_bytes_->Inc(bytes);
}

void DaemonMetrics::Op(const char* name, std::chrono::nanoseconds latency, bool ok) {
  int i = OpIndex(name);
  op_latency_[i]->ObserveDuration(latency);
  if (!ok) op_errors_[i]->Inc();
}

}  // namespace tessera::nydusd
