// State shared by FuseServer and the low-level callbacks (private).
#pragma once

#include "fuse/fuse_server.h"

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
};

// The operation table (a constant).
const struct fuse_lowlevel_ops* FuseOps();

}  // namespace tessera::nydusd
