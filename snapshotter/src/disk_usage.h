// Disk usage of a directory tree as containerd reports it for snapshots: allocated blocks
// (st_blocks * 512) and the number of distinct inodes, hard links counted once. Does not follow
// symlinks or cross into other filesystems.
//
// Thread-safety: reentrant.
#pragma once

#include <string>

#include "tessera/common/result.h"
#include "tessera/snapshotter/types.h"

namespace tessera::snapshotter::internal {

Result<Usage> DiskUsage(const std::string& dir);

}  // namespace tessera::snapshotter::internal
