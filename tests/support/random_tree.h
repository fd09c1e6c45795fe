// Generates a seeded pseudo-random directory tree: random names (any byte but '/' and NUL,
// 1 to max_name bytes), file sizes, symlink target lengths, xattr counts and sizes, owners,
// modes, mtimes, devices, fifos and hard links. Where the edge-case tree (tree_gen.h) holds
// one instance of each edge case, this tree makes inodes, xattr areas, inline tails and
// dirents land at many different offsets within blocks, which is where layout bugs hide.
//
// Needs root (mknod, chown, trusted.* xattrs). The same seed gives the same tree.
//
// Thread-safety: reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tessera/common/result.h"

namespace tessera::testing {

struct RandomTreeOptions {
  uint64_t seed = 1;
  size_t entries = 1500;  // names created below the root, hard links included
  size_t max_name = 255;  // mkfs.erofs 1.5 needs 254
};

// Creates the tree inside `dir` (created if missing; must be empty).
Status GenerateRandomTree(const std::string& dir, const RandomTreeOptions& options);

}  // namespace tessera::testing
