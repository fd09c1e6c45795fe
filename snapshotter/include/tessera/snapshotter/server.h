// The gRPC face of the snapshotter: containerd.services.snapshots.v1.Snapshots on a unix
// socket, the protocol containerd speaks to proxy snapshot plugins.
//
// Thread-safety: Serve blocks the calling thread; gRPC calls run on gRPC's threads and reach
// the Snapshotter, which serializes them.
#pragma once

#include <string>

#include "tessera/common/logging.h"
#include "tessera/common/result.h"
#include "tessera/snapshotter/config.h"
#include "tessera/snapshotter/snapshotter.h"

namespace tessera::snapshotter {

// Opens the snapshotter at config.root, listens on config.address (a stale socket file is
// replaced; the socket is mode 0660) and serves until SIGINT or SIGTERM, then stops accepting,
// finishes running calls and removes the socket. Blocks those signals in the calling thread
// (call before starting other threads). Fails if the root cannot be opened or the socket
// cannot be bound.
Status Serve(const Config& config, Logger* logger);

}  // namespace tessera::snapshotter
