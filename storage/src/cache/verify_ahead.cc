#include "cache/verify_ahead.h"

#include <pthread.h>

#include <algorithm>
#include <shared_mutex>

namespace tessera::storage::cache_internal {
namespace {

constexpr uint64_t kMaxRun = 1u << 20;   // bytes per pread of the worker
constexpr uint64_t kMaxGap = 64u << 10;  // holes read through inside a run (block padding)
constexpr uint32_t kMaxSkip = 4096;      // extents looked at per run when none is wanted

}  // namespace

VerifyAhead::VerifyAhead(const BootstrapTables& tables, std::vector<DeviceCache*> devices,
                         uint64_t window, CheckFn check)
    : tables_(tables),
      devices_(std::move(devices)),
      window_(window),
      check_(std::move(check)),
      cursors_(devices_.size()) {}

VerifyAhead::~VerifyAhead() { Stop(); }

void VerifyAhead::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t VerifyAhead::Pending(uint32_t dev) const {
  const Cursor& c = cursors_[dev];
  auto extents = devices_[dev]->extents();
  if (c.next >= extents.size() || extents[c.next].raw_offset >= c.end) return 0;
  return c.end - extents[c.next].raw_offset;
}

void VerifyAhead::Note(uint32_t dev, uint32_t next, uint64_t end) {
  if (dev >= devices_.size() || devices_[dev] == nullptr) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
    Cursor& c = cursors_[dev];
    uint64_t want = end + window_;
    // Overtaken by the reader, or the reader went back to before where the window started.
    if (next >= c.next || next < c.start) {
      // What lies between is either read (and so verified) or skipped by the reader.
      c.start = next;
      c.next = next;
      c.end = want;
    } else {
      c.end = std::max(c.end, want);
    }
    // Waking the worker per read would cost a futex call and a switch each: wait for half a
    // window of work.
    wake = waiting_ && Pending(dev) >= window_ / 2;
  }
  if (wake) cv_.notify_one();
}

void VerifyAhead::Run() {
  ::pthread_setname_np(::pthread_self(), "verify-ahead");
  std::vector<uint8_t> buf;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    uint32_t dev = 0;
    bool found = false;
    for (uint32_t i = 0; i < cursors_.size() && !found; ++i) {
      dev = (rr_ + i) % static_cast<uint32_t>(cursors_.size());
      found = devices_[dev] != nullptr && Pending(dev) > 0;
    }
    if (!found) {
      waiting_ = true;
      cv_.wait(lock);
      waiting_ = false;
      continue;
    }
    rr_ = dev + 1;
    Cursor taken = cursors_[dev];
    lock.unlock();
    uint32_t after = VerifyRun(dev, taken.next, taken.end, buf);
    lock.lock();
    // A Note in the meantime may have moved the cursor: back (keep it) or into this run.
    Cursor& c = cursors_[dev];
    if (c.next >= taken.next && c.next < after) c.next = after;
  }
}

bool VerifyAhead::Wanted(DeviceCache& dev, uint32_t e) const {
  const ExtentEntry& ext = dev.extents()[e];
  // Partial extents are the read path's (CheckCached marks them without reading).
  return ext.chunk_offset == 0 && ext.size == tables_.chunks[ext.chunk].size && dev.Ready(e) &&
         !dev.Verified(e);
}

uint32_t VerifyAhead::VerifyRun(uint32_t d, uint32_t next, uint64_t end,
                                std::vector<uint8_t>& buf) {
  DeviceCache& dev = *devices_[d];
  auto extents = dev.extents();
  auto n = static_cast<uint32_t>(extents.size());
  // Looking for work takes no evict lock (readers and eviction are not slowed down when there
  // is none: the bits have their own lock).
  uint32_t first = next;
  uint32_t limit = std::min(n, next + kMaxSkip);
  while (first < limit && extents[first].raw_offset < end && !Wanted(dev, first)) ++first;
  if (first == limit || extents[first].raw_offset >= end) return first;
  uint32_t last = first + 1;
  uint64_t lo = extents[first].raw_offset;
  uint64_t hi = lo + extents[first].size;
  for (; last < n && extents[last].raw_offset < end; ++last) {
    const ExtentEntry& ext = extents[last];
    if (ext.raw_offset < hi || ext.raw_offset - hi > kMaxGap) break;
    if (ext.raw_offset + ext.size - lo > kMaxRun || !Wanted(dev, last)) break;
    hi = ext.raw_offset + ext.size;
  }
  // Shared, like a reader: eviction cannot punch a hole under the run while it is read and
  // checked. What was evicted or checked by a reader since the scan is left out.
  std::shared_lock<std::shared_mutex> evict_guard(dev.evict_mutex());
  if (!Wanted(dev, first)) return first + 1;
  uint32_t stop = first + 1;
  while (stop < last && Wanted(dev, stop)) ++stop;
  hi = extents[stop - 1].raw_offset + extents[stop - 1].size;
  if (buf.size() < hi - lo) buf.resize(std::max<uint64_t>(hi - lo, kMaxRun));
  std::span<uint8_t> bytes(buf.data(), hi - lo);
  // A failed read is left to the reader, which reports it.
  if (!PreadFull(dev.fd(), bytes, lo, dev.path())) return stop;
  for (uint32_t e = first; e < stop; ++e) {
    const ExtentEntry& ext = extents[e];
    (void)check_(dev, e, bytes.subspan(ext.raw_offset - lo, ext.size));
  }
  return stop;
}

}  // namespace tessera::storage::cache_internal
