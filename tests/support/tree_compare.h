// Compares two file trees entry by entry and returns human-readable differences: the set of
// names, file type, mode, owner, size, mtime, device numbers, symlink targets, file bytes,
// extended attributes and the hard-link structure. Symlinks are never followed.
//
// Used to prove that an EROFS image (mounted by the kernel, or read through erofs::Reader)
// holds exactly the tree it was built from.
//
// Thread-safety: reentrant; the trees must not change while being compared.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "support/tree_view.h"

#include "tessera/common/result.h"

namespace tessera::testing {

struct CompareOptions {
  // Compare the root directory's own attributes and xattrs (its contents are always compared).
  bool root_attrs = true;
  bool mtime = true;
  // False: compare mtime seconds only.
  bool mtime_nsec = true;
  bool xattrs = true;
  // Xattr names starting with any of these are ignored on both sides (e.g. "security.selinux").
  std::vector<std::string> ignore_xattr_prefixes;
  // Names sharing an inode on one side must share one on the other; nlink of non-directories.
  bool hard_links = true;
  // Directory nlink (2 + subdirectories on ext4 and in EROFS images).
  bool dir_nlink = true;
  // Actual inode numbers must equal expected ones (a kernel EROFS mount reports st_ino = nid).
  bool same_ino = false;
  // Only these st_mode bits are compared (the file type is always compared).
  uint32_t mode_mask = 07777;
  // Relative paths ("a/b") ignored on both sides, with everything below them.
  std::vector<std::string> skip_paths;
  // Differences listed in full; the rest are counted in one final line.
  size_t max_differences = 50;
};

// Compares directory `expected` with directory `actual` (both read with lstat and friends).
// Returns the differences (empty = equal); an error only if a root is not a directory.
Result<std::vector<std::string>> CompareTrees(const std::string& expected,
                                              const std::string& actual,
                                              const CompareOptions& options = {});

// The same over any two views (a directory, a mount, an EROFS image through erofs::Reader).
Result<std::vector<std::string>> CompareViews(const TreeView& expected, const TreeView& actual,
                                              const CompareOptions& options = {});

}  // namespace tessera::testing
