// BlobCache's private state, shared by its source files (blob_cache.cc: open and read path;
// blob_cache_admin.cc: flush, usage, eviction).
#pragma once

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "cache/device_cache.h"
#include "cache/verify_ahead.h"

#include "tessera/storage/cache.h"

namespace tessera::storage {

// A frame of a blob: (blob index, frame index within the blob).
using FrameKey = std::pair<uint32_t, uint32_t>;

struct BlobCache::Impl {
  std::shared_ptr<const BootstrapTables> tables;
  std::shared_ptr<BlobBackend> backend;
  CacheOptions options;
  CacheObserver* observer;
  CacheObserver null_observer;
  std::vector<std::unique_ptr<cache_internal::DeviceCache>>
      devices;  // null for devices without data
  std::vector<uint32_t> blob_of_chunk;
  std::vector<std::vector<uint32_t>> chunks_of_frame;  // global frame -> global chunks

  std::mutex mu;  // guards in_flight, bad_chunks; taken before a DeviceCache's bit lock
  // Per device: a fetch stores into the device its caller reads (whose evict lock it holds), so
  // a reader of another device placing the same chunk cannot wait for it.
  std::map<std::pair<const cache_internal::DeviceCache*, FrameKey>, std::shared_future<Status>>
      in_flight;
  std::map<uint32_t, Error> bad_chunks;  // last verification failure per global chunk

  CacheObserver& obs() { return observer != nullptr ? *observer : null_observer; }
  const FrameEntry& Frame(FrameKey k) const {
    return tables->frames[tables->blobs[k.first].first_frame + k.second];
  }

  // Makes extents [first, last) of device `blob` ready. With `deferred`, ready extents still to
  // be verified that lie wholly inside [offset, offset + length) are not read here but listed,
  // for CheckBytes on the bytes the caller reads anyway (one read of the cache file, not two).
  // Without `fetch`, a missing extent is an error (kUnavailable) instead of a backend read.
  Status EnsureReady(uint32_t blob, uint32_t first, uint32_t last, uint64_t offset = 0,
                     uint64_t length = 0, std::vector<uint32_t>* deferred = nullptr,
                     bool fetch = true);
  Status Read(uint32_t blob, uint64_t offset, std::span<uint8_t> out, bool fetch);
  bool CheckCached(cache_internal::DeviceCache& dev, uint32_t e);
  bool CheckBytes(cache_internal::DeviceCache& dev, uint32_t e, std::span<const uint8_t> bytes);
  Status FetchFrames(cache_internal::DeviceCache& dev, const std::vector<FrameKey>& frames);
  Status FetchGroup(cache_internal::DeviceCache& dev, const std::vector<FrameKey>& group);
  bool FrameStored(const cache_internal::DeviceCache& dev, FrameKey key) const;
  Status StoreFrame(cache_internal::DeviceCache& dev, FrameKey key, std::span<const uint8_t> bytes);

  std::unique_ptr<cache_internal::VerifyAhead> ahead;  // last: stopped before the rest goes
};

}  // namespace tessera::storage
