#include "prefetch.h"

#include <sys/stat.h>

#include <algorithm>

namespace tessera::nydusd {

Prefetcher::Prefetcher(const ImageFs& fs, std::vector<std::string> extra_paths, bool all,
                       uint64_t rate, unsigned threads, Logger& logger)
    : fs_(fs),
      extra_paths_(std::move(extra_paths)),
      all_(all),
      rate_(rate),
      threads_(std::max(1u, threads)),
      logger_(logger) {
  thread_ = std::thread([this] { Run(); });
}

Prefetcher::~Prefetcher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

// Sleeps as needed so that the average rate since start stays under the limit.
void Prefetcher::Throttle(uint64_t bytes) {
  progress_.bytes += bytes;
  if (rate_ == 0) return;
  auto due = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(static_cast<double>(progress_.bytes) /
                                                        static_cast<double>(rate_)));
  while (!stop_ && std::chrono::steady_clock::now() < due) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void Prefetcher::FetchFile(uint64_t nid) {
  auto inode = fs_.GetAttr(nid);
  if (!inode || !S_ISREG(inode->mode)) return;
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t off = 0; off < inode->size && !stop_; off += buf.size()) {
    auto n = fs_.Read(nid, off, buf);
    if (!n) {
      logger_.Warn("prefetch read failed",
                   {{"nid", std::to_string(nid)}, {"error", n.error().ToString()}});
      return;
    }
    Throttle(*n);
  }
}

// Each worker takes the next file of the list until it is exhausted.
void Prefetcher::Worker() {
  for (size_t i = next_++; i < nids_.size() && !stop_; i = next_++) {
    FetchFile(nids_[i]);
    ++progress_.files_done;
  }
}

void Prefetcher::FetchAll() {
  const auto& blobs = fs_.tables().blobs;
  constexpr uint64_t kStep = 4u << 20;
  for (uint32_t b = 0; b < blobs.size() && !stop_; ++b) {
    for (uint64_t off = 0; off < blobs[b].raw_size && !stop_; off += kStep) {
      uint64_t len = std::min(kStep, blobs[b].raw_size - off);
      Status st = fs_.cache().Fetch(b, off, len);
      if (!st) {
        logger_.Warn("prefetch_all failed", {{"error", st.error().ToString()}});
        return;
      }
      Throttle(len);
    }
  }
}

void Prefetcher::Run() {
  start_ = std::chrono::steady_clock::now();
  nids_ = fs_.tables().prefetch;
  for (const auto& path : extra_paths_) {
    auto nid = fs_.reader().ResolvePath(path);
    if (nid) {
      nids_.push_back(*nid);
    } else {
      logger_.Warn("prefetch: no such file", {{"path", path}});
    }
  }
  progress_.files_total = nids_.size();
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads_; ++t) workers.emplace_back([this] { Worker(); });
  Worker();
  for (auto& w : workers) w.join();
  if (all_) FetchAll();
  progress_.finished = true;
  logger_.Info("prefetch finished", {{"bytes", std::to_string(progress_.bytes.load())}});
}
}  // namespace tessera::nydusd
