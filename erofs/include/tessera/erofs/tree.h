// An in-memory filesystem tree, the input of the EROFS writer.
//
// Nodes are addressed by NodeId (index into the tree). A directory maps names to child
// NodeIds; a non-directory node linked under several names is a hard link (one inode, nlink =
// number of names). Directories have exactly one parent. The tree says nothing about layout:
// the writer decides nids, blocks and inline data.
//
// Thread-safety: a plain value; not synchronized.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"

namespace tessera::erofs {

using NodeId = uint32_t;

struct Xattr {
  std::string name;  // full name, e.g. "user.comment", "trusted.overlay.opaque"
  std::string value;

  bool operator==(const Xattr&) const = default;
};

// One chunk of a chunk-based file: a block address on a device (0 = primary image,
// k = k-th extra device). blkaddr == kNullAddr is a hole that reads as zeros.
struct ChunkRef {
  uint16_t device_id = 0;
  uint32_t blkaddr = 0;

  bool operator==(const ChunkRef&) const = default;
};

// Content of a chunk-based regular file: chunk size = 4096 << chunk_bits, and
// ceil(size / chunk size) chunk references.
struct ChunkedData {
  uint8_t chunk_bits = 0;
  std::vector<ChunkRef> chunks;
};

struct Node {
  uint32_t mode = S_IFDIR | 0755;  // st_mode: file type bits and permissions
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;  // seconds since the epoch
  uint32_t mtime_nsec = 0;
  uint64_t size = 0;  // regular files only; symlinks take their target's length
  uint64_t rdev = 0;  // character and block devices: makedev(major, minor)
  std::string symlink_target;
  std::vector<Xattr> xattrs;  // any order; the writer sorts them

  // Regular files: either plain data (stored in the image; `size` bytes read from `data`) or
  // chunked (data lives on devices, size given by `size`). Neither: an empty file.
  std::shared_ptr<const ByteSource> data;
  std::optional<ChunkedData> chunked;

  // Directories: name -> child (sorted bytewise by std::map, as EROFS needs).
  std::map<std::string, NodeId> entries;

  bool is_dir() const { return S_ISDIR(mode); }
};

class Tree {
 public:
  // Starts with a root directory (mode 0755, owned by 0:0).
  Tree();

  NodeId root() const { return 0; }
  size_t size() const { return nodes_.size(); }
  Node& node(NodeId id) { return nodes_[id]; }
  const Node& node(NodeId id) const { return nodes_[id]; }

  // Adds an unlinked node and returns its id.
  NodeId AddNode(Node node);

  // Links `child` into directory `dir` as `name` (replacing an existing entry of that name).
  // Fails if dir is not a directory, the name is invalid ("", ".", "..", contains '/', longer
  // than 255 bytes), or child is a directory that already has a parent.
  Status Link(NodeId dir, const std::string& name, NodeId child);

  // Removes an entry; the node stays in the tree (unreachable nodes are not written).
  Status Unlink(NodeId dir, const std::string& name);

  // Finds a node by absolute or relative path from the root ("a/b", "/a/b"); "" is the root.
  std::optional<NodeId> Find(const std::string& path) const;

 private:
  static constexpr NodeId kNoParent = 0xFFFFFFFF;
  std::vector<Node> nodes_;
  std::vector<NodeId> parent_;  // directories only; the root is its own parent
};

}  // namespace tessera::erofs
