#include "cache/device_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>

#include "cache/ready_bitmap.h"

namespace tessera::storage::cache_internal {
namespace {

bool Bit(const std::vector<uint8_t>& bits, uint32_t i) { return bits[i / 8] >> (i % 8) & 1; }
void SetBit(std::vector<uint8_t>& bits, uint32_t i, bool on) {
  if (on) {
    bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  } else {
    bits[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));
  }
}

// The extent layout a bitmap belongs to: raw size and every extent's placement and digest.
Sha256Digest Fingerprint(const BootstrapTables& t, uint32_t blob) {
  Sha256 hash;
  uint8_t buf[8];
  PutU64(buf, t.blobs[blob].raw_size);
  hash.Update(buf);
  for (const ExtentEntry& e : t.DeviceExtents(blob)) {
    uint8_t entry[kExtentEntrySize];
    EncodeExtent(e, entry);
    hash.Update(std::span<const uint8_t>(entry, 12));  // raw offset and size
    PutU32(buf, e.chunk_offset);
    hash.Update(std::span<const uint8_t>(buf, 4));
    hash.Update(t.chunks[e.chunk].digest);
  }
  return hash.Finish();
}

}  // namespace

Result<std::unique_ptr<DeviceCache>> DeviceCache::Open(const BootstrapTables& t, uint32_t blob,
                                                       const std::string& dir) {
  std::unique_ptr<DeviceCache> d(new DeviceCache());
  const BlobInfo& info = t.blobs[blob];
  d->path_ = dir + "/" + info.IdHex() + ".raw";
  d->bitmap_path_ = dir + "/" + info.IdHex() + ".bitmap";
  d->raw_size_ = info.raw_size;
  d->extents_ = t.DeviceExtents(blob);
  for (uint32_t i = 0; i < d->extents_.size(); ++i)
    d->by_chunk_.emplace_back(d->extents_[i].chunk, i);
  std::sort(d->by_chunk_.begin(), d->by_chunk_.end());
  d->fingerprint_ = Fingerprint(t, blob);
  uint32_t n = static_cast<uint32_t>(d->extents_.size());
  d->ready_ = LoadBitmap(d->bitmap_path_, d->fingerprint_, n, &d->rebuilt_);
  d->verified_.assign(d->ready_.size(), 0);
  d->used_.assign(d->ready_.size(), 0);
  TRY(d->fd_, UniqueFd::Open(d->path_, O_RDWR | O_CREAT, 0644));
  struct stat st {};
  if (::fstat(d->fd_.get(), &st) != 0) return ErrnoError(errno, "stat " + d->path_);
  if (d->rebuilt_ || static_cast<uint64_t>(st.st_size) != d->raw_size_) {
    // Nothing in the old file can be trusted: start from an empty sparse file.
    std::fill(d->ready_.begin(), d->ready_.end(), 0);
    d->rebuilt_ = true;
    if (::ftruncate(d->fd_.get(), 0) != 0 ||
        ::ftruncate(d->fd_.get(), static_cast<off_t>(d->raw_size_)) != 0) {
      return ErrnoError(errno, "truncate " + d->path_);
    }
    d->dirty_ = true;
  }
  return d;
}

std::pair<uint32_t, uint32_t> DeviceCache::Overlapping(uint64_t offset, uint64_t length) const {
  auto first = std::upper_bound(
      extents_.begin(), extents_.end(), offset,
      [](uint64_t off, const ExtentEntry& e) { return off < e.raw_offset + e.size; });
  auto last = first;
  while (last != extents_.end() && last->raw_offset < offset + length) ++last;
  return {static_cast<uint32_t>(first - extents_.begin()),
          static_cast<uint32_t>(last - extents_.begin())};
}

std::span<const std::pair<uint32_t, uint32_t>> DeviceCache::ExtentsOfChunk(uint32_t chunk) const {
  auto lo = std::lower_bound(by_chunk_.begin(), by_chunk_.end(), std::make_pair(chunk, 0u));
  auto hi = lo;
  while (hi != by_chunk_.end() && hi->first == chunk) ++hi;
  return {by_chunk_.data() + (lo - by_chunk_.begin()), static_cast<size_t>(hi - lo)};
}

bool DeviceCache::Ready(uint32_t e) const {
  std::lock_guard<std::mutex> lock(mu_);
  return Bit(ready_, e);
}

bool DeviceCache::Verified(uint32_t e) const {
  std::lock_guard<std::mutex> lock(mu_);
  return Bit(verified_, e);
}

void DeviceCache::MarkReady(uint32_t e) {
  std::lock_guard<std::mutex> lock(mu_);
  SetBit(ready_, e, true);
  SetBit(verified_, e, true);
  dirty_ = true;
}

void DeviceCache::MarkVerified(uint32_t e) {
  std::lock_guard<std::mutex> lock(mu_);
  SetBit(verified_, e, true);
}

void DeviceCache::ClearReady(uint32_t e) {
  std::lock_guard<std::mutex> lock(mu_);
  SetBit(ready_, e, false);
  SetBit(verified_, e, false);
  dirty_ = true;
}

void DeviceCache::MarkUsed(uint32_t first, uint32_t last) {
  std::lock_guard<std::mutex> lock(mu_);
  for (uint32_t e = first; e < last; ++e) SetBit(used_, e, true);
}

bool DeviceCache::TestAndClearUsed(uint32_t e) {
  std::lock_guard<std::mutex> lock(mu_);
  bool used = Bit(used_, e);
  SetBit(used_, e, false);
  return used;
}

uint32_t DeviceCache::ReadyCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t n = 0;
  for (uint8_t b : ready_) n += static_cast<uint32_t>(std::popcount(b));
  return n;
}

Status DeviceCache::Persist() {
  std::vector<uint8_t> snapshot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!dirty_) return Ok();
    snapshot = ready_;
    dirty_ = false;
  }
  // Data first, then the bits that vouch for it.
  if (::fdatasync(fd_.get()) != 0) return ErrnoError(errno, "fdatasync " + path_);
  return SaveBitmap(bitmap_path_, fingerprint_, snapshot, static_cast<uint32_t>(extents_.size()));
}

}  // namespace tessera::storage::cache_internal
