#include "tar/tree_applier.h"

#include <sys/stat.h>

#include <algorithm>
#include <string_view>

#include "tar/tar_path.h"

namespace tessera::builder::internal {
namespace {

using erofs::Node;
using erofs::NodeId;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kReservedPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::string_view kOpaqueXattr = "trusted.overlay.opaque";

const char* TypeName(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "regular file";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
    case S_IFCHR:
      return "character device";
    case S_IFBLK:
      return "block device";
    case S_IFIFO:
      return "fifo";
    default:
      return "special file";
  }
}

// Parents nobody declared (yet): what `mkdir -p` would make for root with umask 022, at the
// epoch so the result does not depend on when the layer was imported.
// A parent the layer never declares: marked so that a merge keeps the attributes of the lower
// layer's directory (docs/format.md §3.4); declaring it later replaces the xattrs, marker too.
Node ImplicitDir() {
  Node dir;
  dir.mode = S_IFDIR | 0755;
  dir.xattrs.push_back({std::string(kImplicitDirXattr), "y"});
  return dir;
}

void SetXattr(Node& node, std::string_view name, std::string value) {
  auto it = std::find_if(node.xattrs.begin(), node.xattrs.end(),
                         [&](const erofs::Xattr& x) { return x.name == name; });
  if (it != node.xattrs.end()) {
    it->value = std::move(value);
  } else {
    node.xattrs.push_back({std::string(name), std::move(value)});
  }
}

// True if one of the first n parts names a non-directory already in the tree. umoci (go-mtree
// diffs) writes a directory replaced by a file as the file followed by whiteouts of the old
// directory's children; those whiteouts delete nothing the layer still shows.
bool BelowNonDirectory(const erofs::Tree& tree, const std::vector<std::string>& parts, size_t n) {
  NodeId cur = tree.root();
  for (size_t i = 0; i < n; ++i) {
    const Node& dir = tree.node(cur);
    auto it = dir.entries.find(parts[i]);
    if (it == dir.entries.end()) return false;
    if (!tree.node(it->second).is_dir()) return true;
    cur = it->second;
  }
  return false;
}

}  // namespace

TreeApplier::TreeApplier(erofs::Tree& tree, TarImportStats& stats) : tree_(tree), stats_(stats) {
  Node& root = tree_.node(tree_.root());
  if (root.entries.empty() && root.xattrs.empty()) {
    root.xattrs.push_back({std::string(kImplicitDirXattr), "y"});
  }
}

bool TreeApplier::IsWhiteout(const TarEntry& entry) {
  return !entry.parts.empty() && entry.parts.back().starts_with(kWhiteoutPrefix);
}

std::optional<NodeId> TreeApplier::Lookup(NodeId dir, const std::string& name) const {
  const Node& node = tree_.node(dir);
  auto it = node.entries.find(name);
  if (it == node.entries.end()) return std::nullopt;
  return it->second;
}

Result<NodeId> TreeApplier::ResolveDir(const std::vector<std::string>& parts, size_t n) {
  NodeId cur = tree_.root();
  for (size_t i = 0; i < n; ++i) {
    std::optional<NodeId> next = Lookup(cur, parts[i]);
    if (!next.has_value()) {
      const NodeId dir = tree_.AddNode(ImplicitDir());
      RETURN_IF_ERROR(tree_.Link(cur, parts[i], dir));
      ++stats_.implicit_dirs;
      cur = dir;
      continue;
    }
    const Node& node = tree_.node(*next);
    if (!node.is_dir()) {
      // E.g. symlink "a" -> "/etc" then "a/passwd": we never resolve through a symlink, and
      // silently replacing "a" would hide a damaged or hostile layer.
      return MakeError(ErrorCode::kCorrupt, "parent '" + JoinTarPath(parts, i + 1) + "' is a " +
                                                TypeName(node.mode) + ", not a directory");
    }
    cur = *next;
  }
  return cur;
}

std::optional<NodeId> TreeApplier::Resolve(const std::vector<std::string>& parts) const {
  NodeId cur = tree_.root();
  for (const std::string& part : parts) {
    if (!tree_.node(cur).is_dir()) return std::nullopt;
    std::optional<NodeId> next = Lookup(cur, part);
    if (!next.has_value()) return std::nullopt;
    cur = *next;
  }
  return cur;
}

Status TreeApplier::ApplyWhiteout(const TarEntry& entry) {
  const std::string& marker = entry.parts.back();
  const size_t parent_len = entry.parts.size() - 1;
  if (BelowNonDirectory(tree_, entry.parts, parent_len)) {
    ++stats_.skipped;
    AddWarning(stats_, "'" + entry.path + "': whiteout below a non-directory skipped");
    return Ok();
  }
  if (marker == kOpaqueMarker) {
    TRY(NodeId dir, ResolveDir(entry.parts, parent_len));
    SetXattr(tree_.node(dir), kOpaqueXattr, "y");
    ++stats_.opaque_dirs;
    return Ok();
  }
  if (marker.starts_with(kReservedPrefix)) {
    ++stats_.skipped;
    AddWarning(stats_, "'" + entry.path + "': reserved whiteout name skipped");
    return Ok();
  }
  const std::string target = marker.substr(kWhiteoutPrefix.size());
  if (target.empty() || target == "." || target == "..") {
    return MakeError(ErrorCode::kCorrupt, "whiteout of an invalid name '" + target + "'");
  }
  TRY(NodeId parent, ResolveDir(entry.parts, parent_len));
  Node whiteout;
  whiteout.mode = S_IFCHR;  // overlayfs: a whiteout is a character device 0:0
  whiteout.rdev = 0;
  whiteout.uid = entry.node.uid;
  whiteout.gid = entry.node.gid;
  whiteout.mtime = entry.node.mtime;
  whiteout.mtime_nsec = entry.node.mtime_nsec;
  RETURN_IF_ERROR(Place(parent, target, std::move(whiteout)));
  ++stats_.whiteouts;
  return Ok();
}

Status TreeApplier::Apply(TarEntry entry) {
  if (entry.kind == TarEntryKind::kHardLink) return ApplyHardLink(entry);
  if (entry.kind == TarEntryKind::kOther) {
    ++stats_.skipped;
    AddWarning(stats_, "'" + entry.path + "': entry type not supported in images, skipped");
    return Ok();
  }
  if (entry.parts.empty()) {
    if (entry.kind != TarEntryKind::kDirectory) {
      return MakeError(ErrorCode::kCorrupt,
                       std::string("names the root but is a ") + TypeName(entry.node.mode));
    }
    UpdateDirAttrs(tree_.root(), std::move(entry.node));
    return Ok();
  }
  TRY(NodeId parent, ResolveDir(entry.parts, entry.parts.size() - 1));
  const std::string& name = entry.parts.back();
  if (entry.kind == TarEntryKind::kDirectory) {
    return ApplyDirectory(parent, name, std::move(entry.node));
  }
  return Place(parent, name, std::move(entry.node));
}

Status TreeApplier::ApplyHardLink(const TarEntry& entry) {
  std::optional<NodeId> target = Resolve(entry.link_parts);
  if (!target.has_value()) {
    return MakeError(ErrorCode::kCorrupt, "hard link '" + entry.path + "' -> '" + entry.link_path +
                                              "': the target is not an earlier entry");
  }
  if (tree_.node(*target).is_dir()) {
    return MakeError(ErrorCode::kCorrupt, "hard link '" + entry.path + "' -> '" + entry.link_path +
                                              "': the target is a directory");
  }
  if (entry.parts.empty()) {
    return MakeError(ErrorCode::kCorrupt, "hard link '" + entry.path + "' names the root");
  }
  TRY(NodeId parent, ResolveDir(entry.parts, entry.parts.size() - 1));
  RETURN_IF_ERROR(tree_.Link(parent, entry.parts.back(), *target));
  ++stats_.hardlinks;
  return Ok();
}

Status TreeApplier::ApplyDirectory(NodeId parent, const std::string& name, Node attrs) {
  std::optional<NodeId> existing = Lookup(parent, name);
  if (existing.has_value() && tree_.node(*existing).is_dir()) {
    UpdateDirAttrs(*existing, std::move(attrs));  // declared after (or again): keep children
    return Ok();
  }
  return Place(parent, name, std::move(attrs));
}

void TreeApplier::UpdateDirAttrs(NodeId id, Node attrs) {
  Node& dir = tree_.node(id);
  // An opaque marker of this layer stays, even if the directory's own entry comes later.
  auto opaque = std::find_if(dir.xattrs.begin(), dir.xattrs.end(),
                             [](const erofs::Xattr& x) { return x.name == kOpaqueXattr; });
  if (opaque != dir.xattrs.end()) SetXattr(attrs, kOpaqueXattr, opaque->value);
  dir.mode = attrs.mode;
  dir.uid = attrs.uid;
  dir.gid = attrs.gid;
  dir.mtime = attrs.mtime;
  dir.mtime_nsec = attrs.mtime_nsec;
  dir.xattrs = std::move(attrs.xattrs);
}

Status TreeApplier::Place(NodeId parent, const std::string& name, Node node) {
  // Tree::Link replaces an existing entry: a directory there is dropped with its subtree,
  // other names of a replaced hard-linked node keep it.
  const NodeId id = tree_.AddNode(std::move(node));
  return tree_.Link(parent, name, id);
}

}  // namespace tessera::builder::internal
