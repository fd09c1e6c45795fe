// Verify-ahead: one background thread per BlobCache that checks cached extents just past where
// readers of a device have read, in device order, so that a sequential reader (tar, cp, a
// program loading its files in the builder's layout order) finds them verified and skips the
// SHA-256 of its first read of each chunk; its preads also bring the bytes into the page cache
// before the reader asks for them. It only makes the read path's own check rarer: an extent is
// marked verified only after its bytes matched the chunk digest, anything not yet verified is
// still checked by the reader, and a mismatch is handled as the read path would (the caller's
// check function counts it and clears the extent's ready bit, so the next read fetches it again).
//
// Work is bounded: one cursor per device (the next extent to look at and the raw offset up to
// which extents are wanted), no queue. A read moves the cursor to just past it when the reader
// has overtaken the verifier (what the verifier had not reached is dropped) or gone back, and
// otherwise only extends the window; the verifier reads runs of up to 1 MiB of adjacent wanted
// extents with one pread each, and takes no lock but the bits' while it looks for them.
//
// Thread-safety: Note may be called from any thread. Lock order: a device's evict mutex (held
// shared by the reader calling Note, and by the worker around each run) before mu_; the worker
// never holds mu_ while it reads or checks. The destructor stops and joins the worker, which
// finishes at most the run it is checking; the devices must outlive this object.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "cache/device_cache.h"

namespace tessera::storage::cache_internal {

class VerifyAhead {
 public:
  // Checks extent `extent` of `dev`, ready and not yet verified, against its bytes as just read
  // from the cache file; true if they match (the extent is then verified).
  using CheckFn = std::function<bool(DeviceCache& dev, uint32_t extent, std::span<const uint8_t>)>;

  // devices[i] is device i's cache (null: no data); `window` raw bytes are verified ahead of the
  // end of the last read. The worker thread starts with the first Note.
  VerifyAhead(const BootstrapTables& tables, std::vector<DeviceCache*> devices, uint64_t window,
              CheckFn check);
  ~VerifyAhead();
  VerifyAhead(const VerifyAhead&) = delete;
  VerifyAhead& operator=(const VerifyAhead&) = delete;

  // A read of device `dev` ended at raw offset `end`; `next` is the first extent after it.
  void Note(uint32_t dev, uint32_t next, uint64_t end);
  // Stops and joins the worker; Notes after it are ignored.
  void Stop();

 private:
  struct Cursor {
    uint32_t start = 0;  // first extent after the read that placed the cursor
    uint32_t next = 0;   // first extent not yet looked at
    uint64_t end = 0;    // extents starting before this raw offset are wanted
  };
  uint64_t Pending(uint32_t dev) const;  // raw bytes wanted ahead of the cursor (mu_ held)
  void Run();
  // Checks the next run of wanted extents from `next`, below raw offset `end`; returns the
  // first extent after what it looked at.
  uint32_t VerifyRun(uint32_t dev, uint32_t next, uint64_t end, std::vector<uint8_t>& buf);
  bool Wanted(DeviceCache& dev, uint32_t extent) const;

  const BootstrapTables& tables_;
  const std::vector<DeviceCache*> devices_;
  const uint64_t window_;
  const CheckFn check_;
  std::mutex mu_;  // guards cursors_, stop_, waiting_, rr_, thread_ (start)
  std::condition_variable cv_;
  std::vector<Cursor> cursors_;
  bool stop_ = false;
  bool waiting_ = false;  // the worker sleeps on cv_
  uint32_t rr_ = 0;       // device to look at first (round robin)
  std::thread thread_;
};

}  // namespace tessera::storage::cache_internal
