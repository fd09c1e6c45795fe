// BlobCache housekeeping: persisting bitmaps, usage, eviction of cold extents.
#include <fcntl.h>

#include "cache/blob_cache_impl.h"

namespace tessera::storage {

using cache_internal::DeviceCache;

Status BlobCache::Flush() {
  Status result;
  for (auto& dev : impl_->devices) {
    if (!dev) continue;
    Status st = dev->Persist();
    if (!st && result) result = st;
  }
  return result;
}

CacheUsage BlobCache::Usage() const {
  CacheUsage u;
  for (const auto& dev : impl_->devices) {
    if (!dev) continue;
    u.extents_total += dev->extents().size();
    u.extents_ready += dev->ReadyCount();
    for (uint32_t e = 0; e < dev->extents().size(); ++e) {
      u.bytes_total += dev->extents()[e].size;
      if (dev->Ready(e)) u.bytes_ready += dev->extents()[e].size;
    }
  }
  return u;
}

uint64_t BlobCache::EvictCold(uint64_t bytes) {
  constexpr uint64_t kBlock = kBlockSize;
  uint64_t freed = 0;
  for (auto& dev : impl_->devices) {
    if (!dev) continue;
    std::unique_lock<std::shared_mutex> lock(dev->evict_mutex());
    for (uint32_t e = 0; e < dev->extents().size() && freed < bytes; ++e) {
      if (!dev->Ready(e) || dev->TestAndClearUsed(e)) continue;
      const ExtentEntry& ext = dev->extents()[e];
      uint64_t lo = ext.raw_offset / kBlock * kBlock;
      uint64_t hi = (ext.raw_offset + ext.size + kBlock - 1) / kBlock * kBlock;
      // Every extent sharing those blocks loses its bytes too.
      auto [first, last] = dev->Overlapping(lo, hi - lo);
      for (uint32_t x = first; x < last; ++x) dev->ClearReady(x);
      if (::fallocate(dev->fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(lo),
                      static_cast<off_t>(hi - lo)) == 0) {
        freed += hi - lo;
      }
    }
  }
  impl_->obs().Evicted(freed);
  return freed;
}

std::vector<std::string> BlobCache::CacheFiles() const {
  std::vector<std::string> out;
  for (const auto& dev : impl_->devices) out.push_back(dev ? dev->path() : "");
  return out;
}

}  // namespace tessera::storage
