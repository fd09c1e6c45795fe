// Directory walker: lstat-based, breadth of one directory at a time, names sorted bytewise.
//
// Only one directory stream is open at any moment (subdirectories are queued, not
// recursed into), so depth costs no file descriptors, and file content is opened lazily.
#include "tessera/builder/dir_loader.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "walker/lazy_file_source.h"
#include "walker/xattr_reader.h"

#include "tessera/erofs/writer.h"

namespace tessera::builder {
namespace {

using erofs::Node;
using erofs::NodeId;
using erofs::Tree;

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

class Walker {
 public:
  Walker(const DirLoadOptions& options, DirLoadStats* stats) : options_(options), stats_(stats) {}

  Result<Tree> Run(const std::string& root);

 private:
  Result<DirPtr> OpenDir(const std::string& path, bool follow);
  Result<std::vector<std::string>> ReadNames(DIR* dir, const std::string& path);
  Status LoadDir(const std::string& path, NodeId id, bool is_root);
  Status LoadEntry(int dfd, const std::string& dir_path, NodeId dir, const std::string& name);
  Status FillNode(int dfd, const std::string& path, const std::string& name, const struct stat& st,
                  Node& node);
  Status LoadXattrs(const std::string& path, Node& node);

  const DirLoadOptions& options_;
  DirLoadStats* stats_;
  Tree tree_;
  std::vector<std::pair<std::string, NodeId>> pending_;  // directories still to read
  std::map<std::pair<dev_t, ino_t>, NodeId> links_;      // multiply-linked non-directories
};

Result<DirPtr> Walker::OpenDir(const std::string& path, bool follow) {
  const int flags = O_RDONLY | O_DIRECTORY | (follow ? 0 : O_NOFOLLOW);
  TRY(UniqueFd fd, UniqueFd::Open(path, flags));
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) return ErrnoError(errno, "fdopendir " + path);
  fd.Release();  // now owned by the DIR stream
  return DirPtr(dir);
}

Result<std::vector<std::string>> Walker::ReadNames(DIR* dir, const std::string& path) {
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const struct dirent* de = ::readdir(dir);
    if (de == nullptr) {
      if (errno != 0) return ErrnoError(errno, "readdir " + path);
      break;
    }
    const std::string_view name = de->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());  // char_traits<char>: bytewise (unsigned)
  return names;
}

Status Walker::LoadXattrs(const std::string& path, Node& node) {
  if (!options_.read_xattrs) return Ok();
  TRY(std::vector<erofs::Xattr> xattrs, internal::ReadXattrs(path));
  for (erofs::Xattr& x : xattrs) {
    if (!erofs::IsStorableXattrName(x.name)) {
      if (!options_.skip_unsupported_xattrs) {
        return MakeError(ErrorCode::kUnsupported,
                         path + ": xattr '" + x.name +
                             "' cannot be stored in EROFS (only user., trusted., security. and "
                             "POSIX ACLs); skip such xattrs to continue");
      }
      if (stats_) ++stats_->skipped_xattrs;
      continue;
    }
    node.xattrs.push_back(std::move(x));
  }
  return Ok();
}

Status Walker::FillNode(int dfd, const std::string& path, const std::string& name,
                        const struct stat& st, Node& node) {
  node.mode = st.st_mode;
  node.uid = st.st_uid;
  node.gid = st.st_gid;
  node.mtime = st.st_mtim.tv_sec;
  node.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  if (S_ISREG(st.st_mode)) {
    node.size = static_cast<uint64_t>(st.st_size);
    if (node.size > 0) node.data = std::make_shared<internal::LazyFileSource>(path, node.size);
    if (stats_) stats_->data_bytes += node.size;
  } else if (S_ISLNK(st.st_mode)) {
    std::string target(PATH_MAX + 1, '\0');
    const ssize_t n = ::readlinkat(dfd, name.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoError(errno, "readlink " + path);
    if (static_cast<size_t>(n) >= target.size()) {
      return MakeError(ErrorCode::kTooLarge, path + ": symlink target too long");
    }
    target.resize(static_cast<size_t>(n));
    node.symlink_target = std::move(target);
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    node.rdev = st.st_rdev;
  }
  return LoadXattrs(path, node);
}

Status Walker::LoadEntry(int dfd, const std::string& dir_path, NodeId dir,
                         const std::string& name) {
  const std::string path = Join(dir_path, name);
  struct stat st {};
  if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(errno, "lstat " + path);
  }
  if (stats_) ++stats_->files;
  const bool linkable = !S_ISDIR(st.st_mode) && st.st_nlink > 1;
  const auto key = std::make_pair(st.st_dev, st.st_ino);
  if (linkable) {
    auto it = links_.find(key);
    if (it != links_.end()) {
      if (stats_) ++stats_->hardlinks;
      return tree_.Link(dir, name, it->second);
    }
  }
  Node node;
  RETURN_IF_ERROR(FillNode(dfd, path, name, st, node));
  const NodeId id = tree_.AddNode(std::move(node));
  RETURN_IF_ERROR_CTX(tree_.Link(dir, name, id), path);
  if (linkable) links_.emplace(key, id);
  if (S_ISDIR(st.st_mode)) pending_.emplace_back(path, id);
  return Ok();
}

Status Walker::LoadDir(const std::string& path, NodeId id, bool is_root) {
  TRY(DirPtr dir, OpenDir(path, is_root));
  TRY(std::vector<std::string> names, ReadNames(dir.get(), path));
  const int dfd = ::dirfd(dir.get());
  for (const std::string& name : names) {
    RETURN_IF_ERROR(LoadEntry(dfd, path, id, name));
  }
  return Ok();
}

Result<Tree> Walker::Run(const std::string& root_arg) {
  char resolved[PATH_MAX];
  if (::realpath(root_arg.c_str(), resolved) == nullptr) {
    return ErrnoError(errno, "source directory " + root_arg);
  }
  const std::string root = resolved;
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0) return ErrnoError(errno, "lstat " + root);
  if (!S_ISDIR(st.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, root_arg + ": not a directory");
  }
  RETURN_IF_ERROR(FillNode(AT_FDCWD, root, root, st, tree_.node(tree_.root())));
  RETURN_IF_ERROR(LoadDir(root, tree_.root(), true));
  // Depth first over the queue; the order only affects NodeIds, never the image.
  while (!pending_.empty()) {
    auto [path, id] = std::move(pending_.back());
    pending_.pop_back();
    RETURN_IF_ERROR(LoadDir(path, id, false));
  }
  return std::move(tree_);
}

}  // namespace

Result<erofs::Tree> LoadDirectory(const std::string& root, const DirLoadOptions& options,
                                  DirLoadStats* stats) {
  if (stats) *stats = DirLoadStats{};
  Walker walker(options, stats);
  return walker.Run(root);
}

}  // namespace tessera::builder
