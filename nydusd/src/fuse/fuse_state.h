// State shared by FuseServer and the low-level callbacks (private).
#pragma once

#include <memory>

#include "fs/push_planner.h"
#include "fuse/fuse_server.h"
#include "fuse/fuse_uring.h"
#include "fuse/push_worker.h"

struct fuse_lowlevel_ops;

namespace tessera::nydusd {

struct FuseServer::State {
  const ImageFs* fs = nullptr;
  FuseObserver* observer = nullptr;
  Logger* logger = nullptr;
  double timeout = 86400;
  bool no_open = false;     // kernel supports skipping FUSE_OPEN
  bool no_opendir = false;  // ... and FUSE_OPENDIR
  struct fuse_session* session = nullptr;
  std::unique_ptr<PushPlanner> push;   // null: pushing off
  std::unique_ptr<PushWorker> pusher;  // runs PushFollowing off the request path
  FuseUring* uring = nullptr;          // set while requests may come over io_uring
};

// Node ids: 1 for the root, nid + 2 otherwise (fuse_server.h).
inline uint64_t InoOfNid(const FuseServer::State& s, uint64_t nid) {
  return nid == s.fs->root_nid() ? 1 : nid + 2;
}

// After the first read of file `nid`: pushes the cached bytes of the small files that follow it
// in its directory into the kernel's page cache (FUSE_NOTIFY_STORE), as PushPlanner decides.
void PushFollowing(FuseServer::State& s, uint64_t nid);

// The operation table (a constant).
const struct fuse_lowlevel_ops* FuseOps();

}  // namespace tessera::nydusd
