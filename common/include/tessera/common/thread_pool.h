// A fixed-size pool of worker threads running submitted tasks in FIFO order.
//
// Thread-safety: Submit and Wait may be called from any thread. The destructor waits for
// queued tasks to finish.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {

class ThreadPool {
 public:
  // threads == 0 means std::thread::hardware_concurrency() (at least 1).
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);
  // Blocks until every task submitted so far has finished.
  void Wait();
  size_t size() const { return workers_.size(); }

 private:
  void WorkerLoop();

  std::mutex mu_;  // guards queue_, pending_, stop_
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;
  size_t pending_ = 0;  // queued + running
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace tessera
