// FuseServer: serves an ImageFs through /dev/fuse with libfuse3's low-level API.
//
// Inode numbers: the FUSE node id of an inode is 1 for the root and nid + 2 otherwise, and
// st_ino is the nid (as the kernel's EROFS reports), so hard links share one inode and numbers
// are stable across restarts. The image is immutable: entries and attributes are cached by the
// kernel for a long timeout, the page cache is kept across opens, and where the kernel supports
// it, open/opendir round trips are skipped entirely.
//
// Crash recovery: the connection's /dev/fuse descriptor and its FUSE_INIT request (fd(),
// init_request()) can be handed to a supervisor; a new server given both (FuseOptions'
// takeover_*) serves the same mount without remounting (nydusd_client/supervisor.h).
//
// Thread-safety: Run() blocks in a multi-threaded loop; Exit() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "fs/image_fs.h"
#include "fs/push_planner.h"

#include "tessera/common/logging.h"

namespace tessera::nydusd {

// Per-operation events for metrics.
class FuseObserver {
 public:
  virtual ~FuseObserver() = default;
  virtual void Op(const char* /*name*/, std::chrono::nanoseconds /*latency*/, bool /*ok*/) {}
  virtual void BytesRead(uint64_t /*bytes*/) {}
  virtual void Pushed(uint64_t /*bytes*/) {}  // one file's bytes stored into the page cache
  virtual void UringRequest() {}              // a request served over io_uring
};

struct FuseOptions {
  std::string mountpoint;
  unsigned threads = 4;            // maximum idle worker threads
  double timeout_seconds = 86400;  // entry and attribute cache lifetime
  bool allow_other = true;         // let every user (containers) read the mount
  std::string fsname = "tessera";
  // Pushing the next small cached files of a directory into the page cache after a read
  // (fs/push_planner.h); push.window_bytes 0 turns it off.
  PushOptions push;
  // Serve requests over io_uring when the kernel offers it (fuse/fuse_uring.h); never for a
  // taken-over connection.
  bool io_uring = true;
  unsigned uring_entries = 2;  // per CPU queue
  // Take over a live connection instead of mounting: a descriptor of it (the server keeps a
  // duplicate) and the INIT request the kernel opened it with.
  int takeover_fd = -1;
  std::string takeover_init;
};

class FuseUring;

class FuseServer {
 public:
  static Result<std::unique_ptr<FuseServer>> Mount(const ImageFs& fs, const FuseOptions& options,
                                                   FuseObserver* observer, Logger* logger);
  ~FuseServer();

  // Serves requests until Exit() or an external unmount.
  Status Run();
  // Stops the loop and detaches the mount.
  void Exit();
  // After Exit(): waits until Run() has returned; false on timeout (readers of files still
  // open on the detached mount keep the connection alive: AbortConnection() ends it).
  bool WaitStopped(std::chrono::milliseconds timeout);
  void AbortConnection();

  const std::string& mountpoint() const { return options_.mountpoint; }
  int fd() const;
  const std::string& init_request() const { return init_request_; }
  bool taken_over() const { return options_.takeover_fd >= 0; }

  struct State;  // shared with the C callbacks

 private:
  FuseServer() = default;
  // Reads the kernel's FUSE_INIT (queued by mount(2)) and answers it, keeping its bytes.
  Status AnswerInit();
  // Answers the replayed INIT of a taken-over connection, then asks for a resend.
  Status ReplayInit();
  // After INIT: serves over io_uring if INIT negotiated it (else /dev/fuse only).
  void StartUring();

  FuseOptions options_;
  std::string init_request_;
  std::optional<unsigned> connection_;  // fusectl id
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;
  std::unique_ptr<State> state_;
  std::atomic<bool> mounted_{false};
  std::unique_ptr<FuseUring> uring_;
};

}  // namespace tessera::nydusd
