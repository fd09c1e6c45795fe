// PushWorker: runs the pushes of small files into the page cache (PushFollowing) on a thread of
// their own. A push may have to wait for a page the kernel holds locked for a READ of the same
// file, and that READ must be served meanwhile; over io_uring it would be queued to the very
// thread that is pushing (one thread serves a CPU's queue), so pushing there could deadlock.
// Off the request path, pushes also never delay a reply.
//
// Thread-safety: Enqueue from any thread; the destructor stops and joins the thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace tessera::nydusd {

class PushWorker {
 public:
  // `push` runs for each enqueued file, in order, on the worker's thread.
  explicit PushWorker(std::function<void(uint64_t nid)> push);
  ~PushWorker();
  PushWorker(const PushWorker&) = delete;
  PushWorker& operator=(const PushWorker&) = delete;

  // After the first read of `nid`; dropped when too many are waiting (pushing is a guess).
  void Enqueue(uint64_t nid);

 private:
  void Run();

  static constexpr size_t kMaxQueued = 256;
  std::function<void(uint64_t)> push_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<uint64_t> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tessera::nydusd
