// One device's cache file and ready bits (private to the blob cache).
#pragma once

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tessera/common/digest.h"
#include "tessera/common/io.h"
#include "tessera/storage/bootstrap.h"

namespace tessera::storage::cache_internal {

class DeviceCache {
 public:
  // Opens (or creates) <dir>/<id>.raw sized raw_size and loads its bitmap.
  static Result<std::unique_ptr<DeviceCache>> Open(const BootstrapTables& tables, uint32_t blob,
                                                   const std::string& dir);

  std::span<const ExtentEntry> extents() const { return extents_; }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  uint64_t raw_size() const { return raw_size_; }

  // Extents overlapping [offset, offset + length), as an index range.
  std::pair<uint32_t, uint32_t> Overlapping(uint64_t offset, uint64_t length) const;
  // This device's extents that place global chunk `chunk`.
  std::span<const std::pair<uint32_t, uint32_t>> ExtentsOfChunk(uint32_t chunk) const;

  bool Ready(uint32_t extent) const;
  bool Verified(uint32_t extent) const;
  void MarkReady(uint32_t extent);  // also verified
  void MarkVerified(uint32_t extent);
  void ClearReady(uint32_t extent);
  uint32_t ReadyCount() const;
  // Second-chance bits for eviction: set when read, cleared (and tested) by the evictor.
  void MarkUsed(uint32_t first, uint32_t last);
  bool TestAndClearUsed(uint32_t extent);
  // Readers hold it shared from the readiness check to the pread; eviction holds it exclusive,
  // so a reader never sees a hole punched under an extent it found ready.
  std::shared_mutex& evict_mutex() { return evict_mu_; }
  bool rebuilt() const { return rebuilt_; }
  Status Persist();

 private:
  DeviceCache() = default;
  std::string path_;
  std::string bitmap_path_;
  UniqueFd fd_;
  uint64_t raw_size_ = 0;
  std::span<const ExtentEntry> extents_;
  std::vector<std::pair<uint32_t, uint32_t>> by_chunk_;  // (global chunk, extent), sorted
  Sha256Digest fingerprint_{};
  bool rebuilt_ = false;
  mutable std::mutex mu_;  // guards ready_, verified_, dirty_
  std::vector<uint8_t> ready_;
  std::vector<uint8_t> verified_;
  std::vector<uint8_t> used_;
  bool dirty_ = false;
  std::shared_mutex evict_mu_;
};

}  // namespace tessera::storage::cache_internal
