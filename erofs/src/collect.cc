// Step 1 of WriteImage: find the reachable inodes, their order and their link counts.
//
// Order: breadth first from the root, each directory's entries in name order; a hard-linked
// node takes the place where it is first named. Breadth first keeps a directory's children
// next to each other in the inode area.
#include <string>
#include <string_view>
#include <vector>

#include "writer_plan.h"

namespace tessera::erofs::writer_internal {

std::string PathOf(const ImagePlan& plan, uint32_t index) {
  if (index == 0) return "/";
  std::vector<const std::string*> parts;
  for (uint32_t i = index; i != 0 && i != kNoIndex; i = plan.inodes[i].parent) {
    parts.push_back(plan.inodes[i].name);
  }
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    path += '/';
    path += *it ? **it : std::string("?");
  }
  return path;
}

namespace {

Status VisitEntry(const Tree& tree, ImagePlan& plan, uint32_t dir_index, const std::string& name,
                  NodeId child) {
  if (child >= tree.size()) {
    return MakeError(ErrorCode::kInvalidArgument, PathOf(plan, dir_index) + "/" + name +
                                                      ": node id " + std::to_string(child) +
                                                      " out of range");
  }
  if (name.empty() || name == "." || name == ".." || name.size() > kMaxNameLen ||
      name.find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     PathOf(plan, dir_index) + ": invalid entry name '" + name + "'");
  }
  const bool is_dir = tree.node(child).is_dir();
  uint32_t& slot = plan.index_of_node[child];
  if (slot != kNoIndex) {
    if (is_dir) {
      return MakeError(ErrorCode::kInvalidArgument, PathOf(plan, dir_index) + "/" + name +
                                                        ": directory already linked at " +
                                                        PathOf(plan, slot));
    }
    ++plan.inodes[slot].nlink;
    return Ok();
  }
  slot = static_cast<uint32_t>(plan.inodes.size());
  InodePlan inode;
  inode.node = child;
  inode.parent = dir_index;
  inode.name = &name;
  inode.nlink = is_dir ? 2 : 1;
  plan.inodes.push_back(std::move(inode));
  if (is_dir) ++plan.inodes[dir_index].subdirs;
  return Ok();
}

}  // namespace

Status CollectInodes(const Tree& tree, ImagePlan& plan) {
  if (tree.size() == 0 || !tree.node(tree.root()).is_dir()) {
    return MakeError(ErrorCode::kInvalidArgument, "/: root is not a directory");
  }
  plan.inodes.clear();
  plan.index_of_node.assign(tree.size(), kNoIndex);
  plan.index_of_node[tree.root()] = 0;
  InodePlan root;
  root.node = tree.root();
  root.nlink = 2;
  plan.inodes.push_back(std::move(root));
  // plan.inodes doubles as the breadth-first queue.
  for (uint32_t i = 0; i < plan.inodes.size(); ++i) {
    const Node& node = tree.node(plan.inodes[i].node);
    if (!node.is_dir()) continue;
    for (const auto& [name, child] : node.entries) {
      RETURN_IF_ERROR(VisitEntry(tree, plan, i, name, child));
    }
    plan.inodes[i].nlink += plan.inodes[i].subdirs;
  }
  if (plan.inodes.size() > 0xFFFFFFFEu) {
    return MakeError(ErrorCode::kTooLarge, "tree: too many inodes");
  }
  return Ok();
}

}  // namespace tessera::erofs::writer_internal
