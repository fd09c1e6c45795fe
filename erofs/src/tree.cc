// In-memory tree: nodes in a vector, directories map names to children.
#include "tessera/erofs/tree.h"

#include <string_view>

#include "tessera/erofs/format.h"

namespace tessera::erofs {
namespace {

Status CheckName(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.size() > kMaxNameLen ||
      name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid entry name '" + name + "' (empty, dot, '/', NUL or > 255 bytes)");
  }
  return Ok();
}

}  // namespace

Tree::Tree() {
  nodes_.emplace_back();
  parent_.push_back(0);
}

NodeId Tree::AddNode(Node node) {
  nodes_.push_back(std::move(node));
  parent_.push_back(kNoParent);
  return static_cast<NodeId>(nodes_.size() - 1);
}

Status Tree::Link(NodeId dir, const std::string& name, NodeId child) {
  if (dir >= nodes_.size() || child >= nodes_.size()) {
    return MakeError(ErrorCode::kInvalidArgument, "link '" + name + "': node id out of range");
  }
  if (!nodes_[dir].is_dir()) {
    return MakeError(ErrorCode::kInvalidArgument, "link '" + name + "': parent is not a directory");
  }
  RETURN_IF_ERROR(CheckName(name));
  auto existing = nodes_[dir].entries.find(name);
  if (existing != nodes_[dir].entries.end() && existing->second == child) return Ok();
  if (nodes_[child].is_dir()) {
    if (parent_[child] != kNoParent) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "link '" + name + "': directory already has a parent");
    }
    // Refuse loops: child must not be dir or one of dir's ancestors.
    for (NodeId up = dir;; up = parent_[up]) {
      if (up == child) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "link '" + name + "': would make a directory loop");
      }
      if (up == root() || parent_[up] == kNoParent) break;
    }
    parent_[child] = dir;
  }
  if (existing != nodes_[dir].entries.end()) {
    const NodeId old = existing->second;
    if (old < nodes_.size() && nodes_[old].is_dir()) parent_[old] = kNoParent;
    existing->second = child;
  } else {
    nodes_[dir].entries.emplace(name, child);
  }
  return Ok();
}

Status Tree::Unlink(NodeId dir, const std::string& name) {
  if (dir >= nodes_.size() || !nodes_[dir].is_dir()) {
    return MakeError(ErrorCode::kInvalidArgument, "unlink '" + name + "': not a directory");
  }
  auto it = nodes_[dir].entries.find(name);
  if (it == nodes_[dir].entries.end()) {
    return MakeError(ErrorCode::kNotFound, "unlink '" + name + "': no such entry");
  }
  const NodeId old = it->second;
  if (old < nodes_.size() && nodes_[old].is_dir() && old != root()) parent_[old] = kNoParent;
  nodes_[dir].entries.erase(it);
  return Ok();
}

std::optional<NodeId> Tree::Find(const std::string& path) const {
  NodeId cur = root();
  std::string_view rest = path;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (part.empty()) continue;
    const Node& n = nodes_[cur];
    if (!n.is_dir()) return std::nullopt;
    if (part == ".") continue;
    if (part == "..") {
      if (parent_[cur] != kNoParent) cur = parent_[cur];
      continue;
    }
    auto it = n.entries.find(std::string(part));
    if (it == n.entries.end()) return std::nullopt;
    cur = it->second;
    if (cur >= nodes_.size()) return std::nullopt;
  }
  return cur;
}

}  // namespace tessera::erofs
