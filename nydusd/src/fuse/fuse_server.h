// FuseServer: serves an ImageFs through /dev/fuse with libfuse3's low-level API.
//
// Inode numbers: the FUSE node id of an inode is 1 for the root and nid + 2 otherwise, and
// st_ino is the nid (as the kernel's EROFS reports), so hard links share one inode and numbers
// are stable across restarts. The image is immutable: entries and attributes are cached by the
// kernel for a long timeout, the page cache is kept across opens, and where the kernel supports
// it, open/opendir round trips are skipped entirely.
//
// Thread-safety: Run() blocks in a multi-threaded loop; Exit() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "fs/image_fs.h"

#include "tessera/common/logging.h"

namespace tessera::nydusd {

// Per-operation events for metrics.
class FuseObserver {
 public:
  virtual ~FuseObserver() = default;
  virtual void Op(const char* /*name*/, std::chrono::nanoseconds /*latency*/, bool /*ok*/) {}
  virtual void BytesRead(uint64_t /*bytes*/) {}
};

struct FuseOptions {
  std::string mountpoint;
  unsigned threads = 4;            // maximum idle worker threads
  double timeout_seconds = 86400;  // entry and attribute cache lifetime
  bool allow_other = true;         // let every user (containers) read the mount
  std::string fsname = "tessera";
};

class FuseServer {
 public:
  static Result<std::unique_ptr<FuseServer>> Mount(const ImageFs& fs, const FuseOptions& options,
                                                   FuseObserver* observer, Logger* logger);
  ~FuseServer();

  // Serves requests until Exit() or an external unmount.
  Status Run();
  // Stops the loop and detaches the mount.
  void Exit();
  const std::string& mountpoint() const { return options_.mountpoint; }

  struct State;  // shared with the C callbacks

 private:
  FuseServer() = default;
  FuseOptions options_;
  std::unique_ptr<State> state_;
  std::atomic<bool> mounted_{false};
};

}  // namespace tessera::nydusd
