// BlobCache: on-demand fetch, verify, cache and read of raw-device bytes.
#include <fcntl.h>

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include "cache/blob_cache_impl.h"

#include "tessera/storage/blob.h"
#include "tessera/storage/cache.h"

namespace tessera::storage {

using cache_internal::DeviceCache;

BlobCache::BlobCache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlobCache::~BlobCache() {
  if (impl_->ahead) impl_->ahead->Stop();  // its last ClearReady is in the bitmap Flush writes
  (void)Flush();
}

Result<std::unique_ptr<BlobCache>> BlobCache::Open(std::shared_ptr<const BootstrapTables> tables,
                                                   std::shared_ptr<BlobBackend> backend,
                                                   const CacheOptions& options,
                                                   CacheObserver* observer) {
  auto impl = std::make_unique<Impl>();
  impl->tables = tables;
  impl->backend = std::move(backend);
  impl->options = options;
  impl->observer = observer;
  const BootstrapTables& t = *tables;
  impl->blob_of_chunk.assign(t.chunks.size(), 0);
  impl->chunks_of_frame.resize(t.frames.size());
  for (uint32_t b = 0; b < t.blobs.size(); ++b) {
    const BlobInfo& info = t.blobs[b];
    for (uint32_t c = info.first_chunk; c < info.first_chunk + info.chunk_count; ++c) {
      impl->blob_of_chunk[c] = b;
      impl->chunks_of_frame[info.first_frame + t.chunks[c].frame].push_back(c);
    }
    if (info.raw_size == 0) {
      impl->devices.push_back(nullptr);
      continue;
    }
    auto dev = DeviceCache::Open(t, b, options.dir);
    if (!dev) return dev.error().Wrap("cache for blob " + info.IdHex());
    impl->devices.push_back(std::move(*dev));
  }
  if (options.verify_cached && options.verify_ahead_bytes > 0) {
    std::vector<DeviceCache*> devices;
    for (const auto& d : impl->devices) devices.push_back(d.get());
    Impl* m = impl.get();
    auto check = [m](DeviceCache& dev, uint32_t e, std::span<const uint8_t> bytes) {
      bool ok = m->CheckBytes(dev, e, bytes);
      if (ok) m->obs().VerifiedAhead(1);
      return ok;
    };
    impl->ahead = std::make_unique<cache_internal::VerifyAhead>(*impl->tables, std::move(devices),
                                                                options.verify_ahead_bytes, check);
  }
  return std::unique_ptr<BlobCache>(new BlobCache(std::move(impl)));
}

// A ready extent is trusted after one check of its bytes against the chunk digest.
bool BlobCache::Impl::CheckCached(DeviceCache& dev, uint32_t e) {
  if (!options.verify_cached || dev.Verified(e)) return true;
  const ExtentEntry& ext = dev.extents()[e];
  const ChunkEntry& chunk = tables->chunks[ext.chunk];
  if (ext.chunk_offset != 0 || ext.size != chunk.size) {
    dev.MarkVerified(e);  // partial extents are covered by their chunk's other extents
    return true;
  }
  // Not a std::vector: no zero-fill of up to a chunk before the read overwrites it.
  std::unique_ptr<uint8_t[]> bytes(new uint8_t[ext.size]);
  std::span<uint8_t> view(bytes.get(), ext.size);
  if (PreadFull(dev.fd(), view, ext.raw_offset, dev.path()) && Sha256Of(view) == chunk.digest) {
    dev.MarkVerified(e);
    return true;
  }
  obs().ChunkCorrupt();
  dev.ClearReady(e);
  return false;
}

// CheckCached for an extent whose bytes the caller has read already.
bool BlobCache::Impl::CheckBytes(DeviceCache& dev, uint32_t e, std::span<const uint8_t> bytes) {
  if (Sha256Of(bytes) == tables->chunks[dev.extents()[e].chunk].digest) {
    dev.MarkVerified(e);
    return true;
  }
  obs().ChunkCorrupt();
  dev.ClearReady(e);
  return false;
}

Status BlobCache::Impl::EnsureReady(uint32_t blob, uint32_t first, uint32_t last, uint64_t offset,
                                    uint64_t length, std::vector<uint32_t>* deferred, bool fetch) {
  DeviceCache& dev = *devices[blob];
  std::set<FrameKey> missing;
  for (uint32_t e = first; e < last; ++e) {
    if (dev.Ready(e)) {
      if (!options.verify_cached || dev.Verified(e)) continue;
      const ExtentEntry& ext = dev.extents()[e];
      // Only whole chunks are hashed (CheckCached); the read must hold all of the extent.
      if (deferred != nullptr && ext.chunk_offset == 0 &&
          ext.size == tables->chunks[ext.chunk].size && ext.raw_offset >= offset &&
          ext.raw_offset + ext.size <= offset + length) {
        deferred->push_back(e);
        continue;
      }
      if (CheckCached(dev, e)) continue;
    }
    uint32_t chunk = dev.extents()[e].chunk;
    uint32_t owner = blob_of_chunk[chunk];
    missing.insert({owner, tables->chunks[chunk].frame});
  }
  if (missing.empty()) return Ok();
  if (!fetch) {
    return MakeError(ErrorCode::kUnavailable, "cache: device " + std::to_string(blob) +
                                                  " extents " + std::to_string(first) + ".." +
                                                  std::to_string(last) + " not all cached");
  }
  RETURN_IF_ERROR(FetchFrames(dev, std::vector<FrameKey>(missing.begin(), missing.end())));
  for (uint32_t e = first; e < last; ++e) {
    if (dev.Ready(e)) continue;
    uint32_t chunk = dev.extents()[e].chunk;
    std::lock_guard<std::mutex> lock(mu);
    auto bad = bad_chunks.find(chunk);
    if (bad != bad_chunks.end()) return bad->second;
    return MakeError(ErrorCode::kInternal, "cache: extent " + std::to_string(e) + " not ready");
  }
  return Ok();
}

// Groups frames that lie back to back in one blob into backend reads of up to merge_limit.
Status BlobCache::Impl::FetchFrames(DeviceCache& dev, const std::vector<FrameKey>& frames) {
  std::vector<FrameKey> sorted = frames;
  std::sort(sorted.begin(), sorted.end(), [this](FrameKey a, FrameKey b) {
    return a.first != b.first ? a.first < b.first
                              : Frame(a).compressed_offset < Frame(b).compressed_offset;
  });
  std::vector<FrameKey> group;
  uint64_t group_bytes = 0;
  for (FrameKey k : sorted) {
    const FrameEntry& f = Frame(k);
    bool adjacent = !group.empty() && group.back().first == k.first &&
                    Frame(group.back()).compressed_offset + Frame(group.back()).compressed_size ==
                        f.compressed_offset;
    if (!group.empty() && (!adjacent || group_bytes + f.compressed_size > options.merge_limit)) {
      RETURN_IF_ERROR(FetchGroup(dev, group));
      group.clear();
      group_bytes = 0;
    }
    group.push_back(k);
    group_bytes += f.compressed_size;
  }
  return group.empty() ? Ok() : FetchGroup(dev, group);
}

Status BlobCache::Impl::StoreFrame(DeviceCache& dev, FrameKey key,
                                   std::span<const uint8_t> packed) {
  const BlobInfo& info = tables->blobs[key.first];
  const FrameEntry& frame = Frame(key);
  std::string where = "blob " + info.IdHex() + " frame " + std::to_string(key.second) +
                      " at offset " + std::to_string(frame.compressed_offset);
  auto bytes = DecodeFrameBytes(frame, packed);
  if (!bytes) {
    obs().ChunkCorrupt();
    return bytes.error().Wrap(where);
  }
  // Good chunks are stored even if a neighbour in the frame is bad; a bad one is never stored
  // and its readers get the recorded error.
  const auto& chunks = chunks_of_frame[info.first_frame + key.second];
  uint64_t ready = 0;
  for (uint32_t c : chunks) {
    const ChunkEntry& chunk = tables->chunks[c];
    Status st = VerifyChunk(chunk, *bytes, c - info.first_chunk);
    if (!st) {
      obs().ChunkCorrupt();
      std::lock_guard<std::mutex> lock(mu);
      bad_chunks.insert_or_assign(c, st.error().Wrap(where));
      continue;
    }
    for (auto [unused, e] : dev.ExtentsOfChunk(c)) {
      const ExtentEntry& ext = dev.extents()[e];
      auto data =
          std::span<const uint8_t>(*bytes).subspan(chunk.frame_offset + ext.chunk_offset, ext.size);
      RETURN_IF_ERROR(PwriteFull(dev.fd(), data, ext.raw_offset, dev.path()));
      dev.MarkReady(e);
      ++ready;
    }
  }
  obs().ExtentsReady(ready);
  return Ok();
}

// True if all of dev's extents of the frame's chunks are ready (another request stored it).
bool BlobCache::Impl::FrameStored(const DeviceCache& dev, FrameKey key) const {
  for (uint32_t c : chunks_of_frame[tables->blobs[key.first].first_frame + key.second]) {
    for (auto [unused, e] : dev.ExtentsOfChunk(c)) {
      if (!dev.Ready(e)) return false;
    }
  }
  return true;
}

// One backend read for a run of adjacent frames; concurrent callers share it per frame.
Status BlobCache::Impl::FetchGroup(DeviceCache& dev, const std::vector<FrameKey>& group) {
  std::vector<std::shared_future<Status>> waits;
  std::vector<FrameKey> mine;
  std::promise<Status> promise;
  std::shared_future<Status> shared = promise.get_future().share();
  {
    std::lock_guard<std::mutex> lock(mu);
    for (FrameKey k : group) {
      auto it = in_flight.find({&dev, k});
      if (it != in_flight.end()) {
        waits.push_back(it->second);
      } else if (FrameStored(dev, k)) {
        // Fetched by a request that finished after the caller found the frame missing (a
        // request leaves in_flight only after storing its frames).
        continue;
      } else {
        in_flight.emplace(std::make_pair(&dev, k), shared);
        mine.push_back(k);
      }
    }
  }
  Status result;
  if (!mine.empty()) {
    // `mine` may have gaps where another request took a frame: read from first to last anyway.
    uint64_t start = Frame(mine.front()).compressed_offset;
    uint64_t end = Frame(mine.back()).compressed_offset + Frame(mine.back()).compressed_size;
    std::vector<uint8_t> buf(end - start);
    auto t0 = std::chrono::steady_clock::now();
    result = backend->Read(tables->blobs[mine.front().first], start, buf);
    obs().BackendRead(buf.size(), std::chrono::steady_clock::now() - t0, result.has_value());
    for (size_t i = 0; result && i < mine.size(); ++i) {
      const FrameEntry& f = Frame(mine[i]);
      result = StoreFrame(
          dev, mine[i],
          std::span<const uint8_t>(buf).subspan(f.compressed_offset - start, f.compressed_size));
    }
    promise.set_value(result);
    std::lock_guard<std::mutex> lock(mu);
    for (FrameKey k : mine) in_flight.erase({&dev, k});
  }
  for (auto& w : waits) {
    Status st = w.get();
    if (result && !st) result = st;
  }
  return result;
}

Status BlobCache::ReadRaw(uint32_t blob, uint64_t offset, std::span<uint8_t> out) {
  return impl_->Read(blob, offset, out, true);
}

Status BlobCache::ReadRawCached(uint32_t blob, uint64_t offset, std::span<uint8_t> out) {
  return impl_->Read(blob, offset, out, false);
}

Status BlobCache::Impl::Read(uint32_t blob, uint64_t offset, std::span<uint8_t> out, bool fetch) {
  Impl& m = *this;
  if (blob >= m.devices.size()) {
    return MakeError(ErrorCode::kOutOfRange, "cache: no device " + std::to_string(blob));
  }
  DeviceCache* dev = m.devices[blob].get();
  uint64_t raw_size = dev != nullptr ? dev->raw_size() : 0;
  if (offset > raw_size || out.size() > raw_size - offset) {
    return MakeError(ErrorCode::kOutOfRange, "cache: read past device " + std::to_string(blob));
  }
  if (out.empty()) return Ok();
  std::shared_lock<std::shared_mutex> evict_guard(dev->evict_mutex());
  auto [first, last] = dev->Overlapping(offset, out.size());
  bool all_ready = true;
  for (uint32_t e = first; e < last && all_ready; ++e) all_ready = dev->Ready(e);
  if (!all_ready && !fetch) {
    return MakeError(ErrorCode::kUnavailable, "cache: device " + std::to_string(blob) + " at " +
                                                  std::to_string(offset) + ": not all cached");
  }
  dev->MarkUsed(first, last);
  std::vector<uint32_t> deferred;
  RETURN_IF_ERROR(m.EnsureReady(blob, first, last, offset, out.size(), &deferred, fetch));
  if (m.ahead) m.ahead->Note(blob, last, offset + out.size());
  if (all_ready) {
    m.obs().CacheHit(out.size());
  } else {
    m.obs().CacheMiss(out.size());
  }
  RETURN_IF_ERROR(PreadFull(dev->fd(), out, offset, dev->path()));
  bool damaged = false;
  for (uint32_t e : deferred) {
    const ExtentEntry& ext = dev->extents()[e];
    if (!m.CheckBytes(*dev, e, out.subspan(ext.raw_offset - offset, ext.size))) damaged = true;
  }
  if (!damaged) return Ok();
  if (!fetch) {
    return MakeError(ErrorCode::kUnavailable, "cache: device " + std::to_string(blob) + " at " +
                                                  std::to_string(offset) +
                                                  ": damaged cached extents dropped");
  }
  // Damaged cached bytes (now marked missing): fetch their frames again and read once more.
  RETURN_IF_ERROR(m.EnsureReady(blob, first, last));
  return PreadFull(dev->fd(), out, offset, dev->path());
}

Status BlobCache::Fetch(uint32_t blob, uint64_t offset, uint64_t length) {
  Impl& m = *impl_;
  if (blob >= m.devices.size() || m.devices[blob] == nullptr) return Ok();
  std::shared_lock<std::shared_mutex> evict_guard(m.devices[blob]->evict_mutex());
  auto [first, last] = m.devices[blob]->Overlapping(offset, length);
  return m.EnsureReady(blob, first, last);
}

}  // namespace tessera::storage
