// Internals of GenerateEdgeCaseTree: a small builder of on-disk entries relative to a root,
// and the functions adding each group of edge cases. Not for use outside tests/support.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <map>
#include <string>

#include "support/data_gen.h"

#include "tessera/common/result.h"

namespace tessera::testing::internal {

// Default mtime base of the generated tree (2023-11-14).
inline constexpr int64_t kBaseTime = 1700000000;

Status Check(int rc, const std::string& what);

class TreeBuilder {
 public:
  explicit TreeBuilder(std::string root) : root_(std::move(root)) {}

  // Each creates `rel` (relative to the root) with exactly the given permission bits.
  Status Mkdir(const std::string& rel, mode_t mode = 0755);
  Status File(const std::string& rel, uint64_t size, ContentKind kind = ContentKind::kRandom,
              mode_t mode = 0644);
  Status Text(const std::string& rel, const std::string& text, mode_t mode = 0644);
  Status Symlink(const std::string& target, const std::string& rel);
  Status Node(const std::string& rel, mode_t type, dev_t dev, mode_t mode = 0644);
  Status Socket(const std::string& rel, mode_t mode = 0755);
  Status Link(const std::string& existing, const std::string& rel);
  Status Xattr(const std::string& rel, const std::string& name, const std::string& value);
  Status Own(const std::string& rel, uid_t uid, gid_t gid);
  Status Chmod(const std::string& rel, mode_t mode);
  // Records an mtime applied by ApplyTimes (others get a deterministic default).
  void Time(const std::string& rel, int64_t sec, long nsec);
  // Sets every mtime below and including `rel`, children before parents.
  Status ApplyTimes(const std::string& rel);

 private:
  std::string P(const std::string& rel) const { return rel.empty() ? root_ : root_ + "/" + rel; }
  timespec DefaultTime(const std::string& rel) const;

  std::string root_;
  std::map<std::string, timespec> times_;
};

// tree_gen_parts.cc
Status AddStructure(TreeBuilder& b, size_t max_name);  // root, deep, bigdir, names
Status AddFilesAndLinks(TreeBuilder& b);               // files of many sizes, symlinks
Status AddSpecialsAndLinks(TreeBuilder& b);            // devices, fifo, socket, hard links
Status AddOwnersModesTimes(TreeBuilder& b);            // uids/gids, special modes, mtimes
Status AddXattrsAndOverlay(TreeBuilder& b);            // xattrs, whiteout, opaque dirs

}  // namespace tessera::testing::internal
