// Generates on disk a directory tree holding every edge case an EROFS writer or reader must
// get right: deep nesting, a directory spanning many blocks, 255-byte and unusual names,
// files around block boundaries up to 10 MiB, all symlink shapes, devices, fifos, sockets,
// hard links (also of symlinks and fifos), large uids, special modes, nanosecond and extreme
// mtimes, xattrs of every storable namespace (POSIX ACLs included), and overlayfs whiteouts
// and opaque dirs. The root itself is 0750 and owned by 1000:1000.
//
// Needs root (mknod, chown, trusted.* xattrs) and a filesystem with xattrs (ext4, tmpfs).
// The content is deterministic: two calls produce trees that compare equal.
//
// Thread-safety: reentrant.
#pragma once

#include <string>

#include "tessera/common/result.h"

namespace tessera::testing {

struct EdgeCaseOptions {
  // Names of the maximum length (255 bytes). mkfs.erofs 1.5 cannot store them (it fails with
  // "Could not format the device: No such file or directory"); false makes them 254 bytes.
  bool max_length_names = true;
};

// Creates the tree inside `dir` (created if missing; must be empty). Sets every mtime last,
// children before parents, so directory mtimes stick.
Status GenerateEdgeCaseTree(const std::string& dir, const EdgeCaseOptions& options = {});

// Paths the edge-case tree always holds (relative to its root).
inline constexpr char kEdgeFile4097[] = "files/size_4097";
inline constexpr char kEdgeHardlinkA[] = "hardlinks/a";
inline constexpr char kEdgeDeepLeaf[] =
    "deep/d01/d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/leaf";
inline constexpr char kEdgeBigDir[] = "bigdir";
inline constexpr int kEdgeBigDirEntries = 3000;

}  // namespace tessera::testing
