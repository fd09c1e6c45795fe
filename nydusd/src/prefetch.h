// Background prefetch for a mounted image: the bootstrap's prefetch table and the configured
// files first, in order, then (optionally) every extent of every device, under a bandwidth limit.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "fs/image_fs.h"

#include "tessera/common/logging.h"

namespace tessera::nydusd {

struct PrefetchProgress {
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> files_total{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<bool> finished{false};
};

class Prefetcher {
 public:
  // `threads` workers share the list (and the rate limit).
  Prefetcher(const ImageFs& fs, std::vector<std::string> extra_paths, bool all, uint64_t rate,
             unsigned threads, Logger& logger);
  ~Prefetcher();  // stops and joins
  const PrefetchProgress& progress() const { return progress_; }

 private:
  void Run();
  void Worker();
  void Throttle(uint64_t bytes);
  void FetchFile(uint64_t nid);
  void FetchAll();

  const ImageFs& fs_;
  std::vector<std::string> extra_paths_;
  bool all_;
  uint64_t rate_;
  unsigned threads_;
  Logger& logger_;
  std::vector<uint64_t> nids_;
  std::atomic<size_t> next_{0};
  PrefetchProgress progress_;
  std::atomic<bool> stop_{false};
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
};

}  // namespace tessera::nydusd
