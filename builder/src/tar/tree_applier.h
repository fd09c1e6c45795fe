// Private to the tar importer: applies decoded tar entries to an erofs::Tree with OCI layer
// semantics (last entry wins, implicit parents, hard links by name, whiteouts).
//
// Thread-safety: one applier per tree, used from one thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tar/tar_entry.h"
#include "tar/tar_import.h"

#include "tessera/common/result.h"
#include "tessera/erofs/tree.h"

namespace tessera::builder::internal {

// Marks, in a layer bootstrap, a directory the layer's tar did not declare (made as a parent
// only): a merge keeps the lower layer's attributes for it. Like every trusted.overlay.* xattr
// it never reaches a merged image.
inline constexpr std::string_view kImplicitDirXattr = "trusted.overlay.tessera.implicit";

class TreeApplier {
 public:
  // A fresh tree's root is marked implicit until the layer declares it ("./").
  TreeApplier(erofs::Tree& tree, TarImportStats& stats);

  // True if the entry's last component is an OCI whiteout marker (".wh." prefix).
  static bool IsWhiteout(const TarEntry& entry);

  // ".wh..wh..opq": marks the parent opaque (trusted.overlay.opaque=y); other ".wh..wh.*"
  // names are reserved and skipped; ".wh.NAME": an overlay whiteout (char device 0:0, mode 0,
  // the marker's owner and mtime) replaces NAME. The marker itself is not added.
  Status ApplyWhiteout(const TarEntry& entry);

  // Applies any other entry; a regular file's content is already in entry.node. Fails with
  // kCorrupt on a name below a non-directory, a non-directory root entry, or a hard link to a
  // missing entry or a directory.
  Status Apply(TarEntry entry);

 private:
  // The directory holding parts[0..n-1], creating missing ones; a non-directory on the way
  // is an error.
  Result<erofs::NodeId> ResolveDir(const std::vector<std::string>& parts, size_t n);
  // The node named by parts, which must exist.
  std::optional<erofs::NodeId> Resolve(const std::vector<std::string>& parts) const;
  std::optional<erofs::NodeId> Lookup(erofs::NodeId dir, const std::string& name) const;
  Status ApplyHardLink(const TarEntry& entry);
  Status ApplyDirectory(erofs::NodeId parent, const std::string& name, erofs::Node attrs);
  void UpdateDirAttrs(erofs::NodeId id, erofs::Node attrs);
  Status Place(erofs::NodeId parent, const std::string& name, erofs::Node node);

  erofs::Tree& tree_;
  TarImportStats& stats_;
};

}  // namespace tessera::builder::internal
