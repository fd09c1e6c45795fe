// Depth-first walk of the whole tree with an explicit stack (hostile depth cannot overflow the
// call stack), checking "." and ".." and refusing directory loops.
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "inode_encode.h"
#include "reader_state.h"

#include "tessera/erofs/format.h"

namespace tessera::erofs::internal {
namespace {

struct Frame {
  uint64_t nid = 0;
  std::string path;
  std::vector<DirEntry> entries;
  size_t next = 0;
};

Status CheckDots(const std::vector<DirEntry>& entries, uint64_t nid, uint64_t parent,
                 const std::string& path) {
  const DirEntry* dot = nullptr;
  const DirEntry* dotdot = nullptr;
  for (const DirEntry& e : entries) {
    if (e.name == ".") dot = &e;
    if (e.name == "..") dotdot = &e;
  }
  const std::string where = Cat("directory ", path, " (nid ", nid, "): ");
  if (dot == nullptr || dotdot == nullptr) {
    return Corrupt(Cat(where, "'", dot == nullptr ? "." : "..", "' entry missing"));
  }
  if (dot->nid != nid) return Corrupt(Cat(where, "'.' points at nid ", dot->nid));
  if (dotdot->nid != parent) {
    return Corrupt(
        Cat(where, "'..' points at nid ", dotdot->nid, ", expected parent nid ", parent));
  }
  return Ok();
}

Status CheckType(const DirEntry& entry, const InodeInfo& inode, const std::string& path) {
  if (entry.type == FileType::kUnknown || entry.type == writer_internal::FileTypeOfMode(inode.mode))
    return Ok();
  return Corrupt(Cat(path, ": dirent file_type ", unsigned(entry.type), " does not match i_mode 0",
                     std::oct, inode.mode));
}

std::string ChildPath(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

class Walker {
 public:
  Walker(const Image& image, const WalkVisitor& visit) : image_(image), visit_(visit) {}

  Status Run() {
    const uint64_t root = image_.sb.root_nid;
    TRY(const InodeInfo inode, ReadInode(image_, root));
    if (!S_ISDIR(inode.mode)) return Corrupt(Cat("root nid ", root, " is not a directory"));
    visited_.insert(root);
    RETURN_IF_ERROR(visit_("/", DirEntry{"", root, FileType::kDirectory}, inode));
    RETURN_IF_ERROR(Enter(inode, root, "/"));
    while (!stack_.empty()) {
      Frame& top = stack_.back();
      if (top.next == top.entries.size()) {
        stack_.pop_back();
        continue;
      }
      const DirEntry entry = top.entries[top.next++];
      if (entry.name == "." || entry.name == "..") continue;
      RETURN_IF_ERROR(Visit(entry, top.nid, ChildPath(top.path, entry.name)));
    }
    return Ok();
  }

 private:
  Status Visit(const DirEntry& entry, uint64_t parent, const std::string& path) {
    auto inode = ReadInode(image_, entry.nid);
    if (!inode) return inode.error().Wrap(path);
    RETURN_IF_ERROR(CheckType(entry, *inode, path));
    const bool dir = S_ISDIR(inode->mode);
    if (dir && !visited_.insert(entry.nid).second) {
      return Corrupt(Cat(path, ": directory nid ", entry.nid,
                         " reached a second time (directory loop or hard-linked directory)"));
    }
    RETURN_IF_ERROR(visit_(path, entry, *inode));
    if (dir) RETURN_IF_ERROR(Enter(*inode, parent, path));
    return Ok();
  }

  // Reads a directory, checks its "." and "..", and pushes it.
  Status Enter(const InodeInfo& dir, uint64_t parent, const std::string& path) {
    if (stack_.size() >= kMaxWalkDepth) {
      return Unsupported(Cat(path, ": directory depth exceeds ", kMaxWalkDepth));
    }
    auto entries = ReadDirectory(image_, dir);
    if (!entries) return entries.error().Wrap(path);
    RETURN_IF_ERROR(CheckDots(*entries, dir.nid, parent, path));
    stack_.push_back(Frame{dir.nid, path, std::move(*entries), 0});
    return Ok();
  }

  const Image& image_;
  const WalkVisitor& visit_;
  std::vector<Frame> stack_;
  std::unordered_set<uint64_t> visited_;
};

}  // namespace

Status WalkTree(const Image& image, const WalkVisitor& visit) { return Walker(image, visit).Run(); }

}  // namespace tessera::erofs::internal
