// Loads a directory from the local filesystem into an erofs::Tree.
//
// Why: `tessera-image mkfs` (and tests) build images from a directory on disk. The walker
// records what EROFS can store: type, permissions, owner, mtime (with nanoseconds), device
// numbers, symlink targets, xattrs and hard links. Symlinks are never followed below the
// root. Regular file content is not read here: each file gets a ByteSource that opens the
// file on every read, so a tree of any number of files holds no file descriptors.
//
// Thread-safety: LoadDirectory is reentrant. The returned tree's sources may be read from
// any thread.
#pragma once

#include <cstdint>
#include <string>

#include "tessera/common/result.h"
#include "tessera/erofs/tree.h"

namespace tessera::builder {

struct DirLoadOptions {
  // Drop xattrs whose namespace EROFS cannot store (e.g. "system.nfs4_acl") instead of
  // failing with an error naming the file and xattr.
  bool skip_unsupported_xattrs = false;
  // Read no xattrs at all.
  bool read_xattrs = true;
};

struct DirLoadStats {
  uint64_t files = 0;       // entries loaded below the root (each hard-link name counts)
  uint64_t hardlinks = 0;   // names that reuse an earlier node
  uint64_t data_bytes = 0;  // sum of regular file sizes (each inode once)
  uint64_t skipped_xattrs = 0;
};

// Walks `root` (a directory; a symlink to one is followed for the root only). The tree's
// root takes the source root's mode, owner, mtime and xattrs. Entries are visited in bytewise
// name order, so equal directories give equal trees. Fails with an error naming the path on
// an unreadable entry, an unsupported xattr (unless skipped) or a name EROFS cannot store.
// `stats` may be null.
Result<erofs::Tree> LoadDirectory(const std::string& root, const DirLoadOptions& options,
                                  DirLoadStats* stats = nullptr);

}  // namespace tessera::builder
