// FuseUring: serves a FUSE connection's requests over io_uring (FUSE-over-io_uring, Linux >= 6.14
// with the fuse module parameter enable_uring=Y), beside libfuse's /dev/fuse loop.
//
// Why: a synchronous reader (find, tar) waits for every reply. Over /dev/fuse the request wakes a
// daemon thread on another CPU and the reply wakes the reader back, two cross-CPU wakeups per
// request; on a virtual machine those cost more than the request itself (measured here: a cold
// `find` of /usr/share 0.85 s with reader and daemon on different CPUs, 0.37 s on one). With
// io_uring the kernel keeps one queue per CPU and hands a request to the queue of the CPU it was
// issued on; each queue is served by a thread pinned to that CPU, so both wakeups stay local.
//
// How: libfuse 3.14 has no io_uring support, but it lets us supply the session's I/O
// (fuse_session_custom_io). The INIT reply passing through it gets the io_uring flag; each queue
// thread registers buffers (entries) with the kernel, turns each request it gets into the
// /dev/fuse layout and runs it through libfuse (fuse_session_process_buf), and the reply libfuse
// writes for it is caught by unique id, copied into the entry and committed, which also waits for
// the next request. Everything else (notifications such as FUSE_NOTIFY_STORE, FORGET, INTERRUPT,
// and requests sent before every queue is registered) still goes through /dev/fuse.
//
// Not used for connections handed to a supervisor (crash takeover replays the /dev/fuse protocol).
// Thread-safety: Start/Stop from one thread; the I/O callbacks run on any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tessera/common/logging.h"
#include "tessera/common/result.h"

struct fuse_session;
struct iovec;

namespace tessera::nydusd {

class FuseObserver;

class FuseUring {
 public:
  // Whether this kernel serves FUSE over io_uring now (/sys/module/fuse/parameters/enable_uring).
  static bool KernelEnabled();

  // Installs the session's I/O; must run after fuse_session_mount and before the kernel's INIT is
  // answered (its reply is where io_uring is asked for).
  static Result<std::unique_ptr<FuseUring>> Install(struct fuse_session* session, Logger* logger,
                                                    FuseObserver* observer);
  ~FuseUring();

  // The INIT request being answered (its reply gets the flag).
  void ExpectInit(uint64_t unique) { init_unique_ = unique; }
  // After INIT: whether the reply asked for io_uring.
  bool negotiated() const { return negotiated_; }
  // Registers entries on every CPU's queue and serves them, one thread pinned to each CPU. The
  // kernel switches the connection to io_uring only once every queue has an entry, so a failure
  // part-way leaves everything on /dev/fuse.
  Status Start(unsigned entries_per_queue);
  // Stops the queue threads (after the connection has ended, or at shutdown).
  void Stop();
  unsigned queues() const { return static_cast<unsigned>(queues_.size()); }

  struct Queue;
  struct Entry;

 private:
  FuseUring() = default;
  static ssize_t Writev(int fd, struct iovec* iov, int count, void* self);
  static ssize_t Read(int fd, void* buf, size_t len, void* self);
  void PatchInit(struct iovec& body);
  void Serve(Queue& q);
  void Handle(Queue& q, Entry& e);
  void Commit(Entry& e, const void* out_header, const struct iovec* data, int count);
  void CommitError(Entry& e, uint64_t unique, int error);
  Entry* TakeInFlight(uint64_t unique);

  struct fuse_session* session_ = nullptr;
  int fd_ = -1;
  Logger* logger_ = nullptr;
  FuseObserver* observer_ = nullptr;
  std::atomic<uint64_t> init_unique_{0};
  std::atomic<bool> negotiated_{false};
  size_t payload_size_ = 0;  // from the INIT reply: max(8 KiB, max_write, max_pages pages)
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Queue>> queues_;
  std::vector<std::thread> threads_;
  std::mutex mu_;  // guards in_flight_
  std::unordered_map<uint64_t, Entry*> in_flight_;
};

}  // namespace tessera::nydusd
