#include "fuse/push_worker.h"

namespace tessera::nydusd {

PushWorker::PushWorker(std::function<void(uint64_t nid)> push) : push_(std::move(push)) {
  thread_ = std::thread([this] { Run(); });
}

PushWorker::~PushWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PushWorker::Enqueue(uint64_t nid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= kMaxQueued) return;
    queue_.push_back(nid);
  }
  cv_.notify_one();
}

void PushWorker::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    uint64_t nid = queue_.front();
    queue_.pop_front();
    lock.unlock();
    push_(nid);
    lock.lock();
  }
}

}  // namespace tessera::nydusd
