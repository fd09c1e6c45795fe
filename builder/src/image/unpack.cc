// tessera-image unpack into a directory.
//
// Why it cannot write outside the target: every name is created with an *at() call relative
// to a directory fd that this code created itself (mkdirat, then openat with O_DIRECTORY |
// O_NOFOLLOW); names are checked again (no "", ".", "..", '/', NUL); nothing already on disk is
// reused (O_EXCL, and mkdirat/symlinkat/mknodat fail on an existing name); attribute calls use
// AT_SYMLINK_NOFOLLOW or an fd of the created file; the target must start empty. So a symlink
// in the image is only ever created, never followed.
//
// Order: a file's data, then owner, xattrs, mode (chmod after chown, which clears set-id bits)
// and mtime. A directory gets its owner, xattrs (a default ACL set earlier would be inherited
// by its children), mode and mtime when the walk leaves it, after all its children.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "unpack_util.h"

#include "tessera/builder/image.h"
#include "tessera/common/io.h"

namespace tessera::builder {
namespace {

using erofs::InodeInfo;
using erofs::Xattr;

Status Sys(int rc, const std::string& what) {
  if (rc != 0) return ErrnoError(errno, what);
  return Ok();
}

struct Times {
  explicit Times(const InodeInfo& inode) {
    ts[0] = ts[1] = timespec{static_cast<time_t>(inode.mtime), static_cast<long>(inode.mtime_nsec)};
  }
  timespec ts[2];
};

struct OpenDir {
  std::string path;  // image path, "/" for the root
  UniqueFd fd;
  InodeInfo inode;
};

class DirUnpacker {
 public:
  DirUnpacker(const Image& image, UniqueFd target)
      : image_(image), target_(std::move(target)), chown_(::geteuid() == 0) {}

  Result<UnpackStats> Run() {
    RETURN_IF_ERROR(
        image_.reader().Walk([this](const std::string& path, const erofs::DirEntry& entry,
                                    const InodeInfo& inode) { return Visit(path, entry, inode); }));
    while (!stack_.empty()) RETURN_IF_ERROR(PopDir());
    return std::move(stats_);
  }

 private:
  Status Visit(const std::string& path, const erofs::DirEntry& entry, const InodeInfo& inode) {
    if (path == "/") {
      if (!target_.valid() || !S_ISDIR(inode.mode)) {
        return MakeError(ErrorCode::kCorrupt, "/: root visited twice or not a directory");
      }
      stack_.push_back(OpenDir{path, std::move(target_), inode});
      return Ok();
    }
    auto [parent, name] = internal::SplitImagePath(path);
    RETURN_IF_ERROR(PopTo(parent));
    Status created = CheckedCreate(path, entry.name, name, inode);
    if (!created) return created.error().Wrap(path);
    return Ok();
  }

  Status CheckedCreate(const std::string& path, const std::string& name,
                       const std::string& path_name, const InodeInfo& inode) {
    RETURN_IF_ERROR(internal::CheckUnpackName(name));
    if (name != path_name) {
      return MakeError(ErrorCode::kInternal, "walk path does not end in '" + name + "'");
    }
    return Create(path, name, inode);
  }

  Status Create(const std::string& path, const std::string& name, const InodeInfo& inode) {
    const int dirfd = stack_.back().fd.get();
    ++stats_.entries;
    if (!S_ISDIR(inode.mode) && inode.nlink > 1) {
      auto [it, first] = first_name_.try_emplace(inode.nid, path);
      if (!first) {
        ++stats_.hardlinks;
        return LinkTo(it->second, dirfd, name);
      }
    }
    switch (inode.mode & S_IFMT) {
      case S_IFDIR:
        return MakeDir(dirfd, name, path, inode);
      case S_IFREG:
        return MakeFile(dirfd, name, inode);
      case S_IFLNK:
        return MakeSymlink(dirfd, name, inode);
      case S_IFCHR:
      case S_IFBLK:
      case S_IFIFO:
      case S_IFSOCK:
        return MakeNode(dirfd, name, inode);
      default:
        return MakeError(ErrorCode::kUnsupported,
                         "unknown file type in mode " + std::to_string(inode.mode));
    }
  }

  Status MakeDir(int dirfd, const std::string& name, const std::string& path,
                 const InodeInfo& inode) {
    RETURN_IF_ERROR(Sys(::mkdirat(dirfd, name.c_str(), 0700), "mkdir"));
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return ErrnoError(errno, "open the created directory");
    stack_.push_back(OpenDir{path, std::move(fd), inode});
    return Ok();
  }

  Status MakeFile(int dirfd, const std::string& name, const InodeInfo& inode) {
    UniqueFd fd(
        ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return ErrnoError(errno, "create");
    RETURN_IF_ERROR(internal::StreamFileData(
        image_, inode, [&fd](uint64_t offset, std::span<const uint8_t> piece) {
          return internal::WriteSkippingZeros(fd.get(), offset, piece);
        }));
    RETURN_IF_ERROR(Sys(::ftruncate(fd.get(), static_cast<off_t>(inode.size)), "truncate"));
    stats_.bytes += inode.size;
    return ApplyFdAttrs(fd.get(), inode);
  }

  Status MakeSymlink(int dirfd, const std::string& name, const InodeInfo& inode) {
    TRY(const std::string target, image_.reader().ReadLink(inode.nid));
    RETURN_IF_ERROR(Sys(::symlinkat(target.c_str(), dirfd, name.c_str()), "symlink"));
    return ApplyAtAttrs(dirfd, name, inode, /*symlink=*/true);
  }

  Status MakeNode(int dirfd, const std::string& name, const InodeInfo& inode) {
    const bool device = S_ISCHR(inode.mode) || S_ISBLK(inode.mode);
    const dev_t dev = device ? static_cast<dev_t>(inode.rdev) : 0;
    RETURN_IF_ERROR(
        Sys(::mknodat(dirfd, name.c_str(), (inode.mode & S_IFMT) | 0600, dev), "mknod"));
    return ApplyAtAttrs(dirfd, name, inode, /*symlink=*/false);
  }

  // Hard link: the new name shares the inode created under the first name.
  Status LinkTo(const std::string& first, int dirfd, const std::string& name) {
    auto [parent, base] = internal::SplitImagePath(first);
    UniqueFd reopened;
    int parent_fd = -1;
    for (auto it = stack_.rbegin(); it != stack_.rend() && parent_fd < 0; ++it) {
      if (it->path == parent) parent_fd = it->fd.get();
    }
    if (parent_fd < 0) {
      TRY(reopened, ReopenCreatedDir(parent));
      parent_fd = reopened.get();
    }
    // Flags 0: a symlink's first name is linked itself, never followed.
    return Sys(::linkat(parent_fd, base.c_str(), dirfd, name.c_str(), 0), "link to " + first);
  }

  // Opens a directory this run created (an image path) from the target, one component at a
  // time, refusing symlinks.
  Result<UniqueFd> ReopenCreatedDir(const std::string& path) {
    UniqueFd cur(::openat(stack_.front().fd.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cur.valid()) return ErrnoError(errno, "reopen the target directory");
    for (size_t pos = 1; pos < path.size();) {
      size_t slash = path.find('/', pos);
      if (slash == std::string::npos) slash = path.size();
      const std::string part = path.substr(pos, slash - pos);
      const int next =
          ::openat(cur.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0) return ErrnoError(errno, "reopen directory " + path);
      cur.Reset(next);
      pos = slash + 1;
    }
    return cur;
  }

  Status ApplyFdAttrs(int fd, const InodeInfo& inode) {
    TRY(const std::vector<Xattr> xattrs, image_.reader().ListXattrs(inode.nid));
    if (chown_) RETURN_IF_ERROR(Sys(::fchown(fd, inode.uid, inode.gid), "chown"));
    for (const Xattr& x : xattrs) {
      RETURN_IF_ERROR(Sys(::fsetxattr(fd, x.name.c_str(), x.value.data(), x.value.size(), 0),
                          "set xattr " + x.name));
    }
    RETURN_IF_ERROR(Sys(::fchmod(fd, inode.mode & 07777), "chmod"));
    const Times t(inode);
    return Sys(::futimens(fd, t.ts), "set mtime");
  }

  // Attributes of a name that cannot be opened for writing (symlink, device, fifo, socket).
  Status ApplyAtAttrs(int dirfd, const std::string& name, const InodeInfo& inode, bool symlink) {
    TRY(const std::vector<Xattr> xattrs, image_.reader().ListXattrs(inode.nid));
    if (chown_) {
      RETURN_IF_ERROR(
          Sys(::fchownat(dirfd, name.c_str(), inode.uid, inode.gid, AT_SYMLINK_NOFOLLOW), "chown"));
    }
    // The directory's fd as a path prefix: `name` (no '/') stays inside it, and lsetxattr
    // does not follow it.
    const std::string via_fd = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
    for (const Xattr& x : xattrs) {
      RETURN_IF_ERROR(
          Sys(::lsetxattr(via_fd.c_str(), x.name.c_str(), x.value.data(), x.value.size(), 0),
              "set xattr " + x.name));
    }
    if (!symlink) {  // a symlink's mode cannot be changed
      RETURN_IF_ERROR(
          Sys(::fchmodat(dirfd, name.c_str(), inode.mode & 07777, AT_SYMLINK_NOFOLLOW), "chmod"));
    }
    const Times t(inode);
    return Sys(::utimensat(dirfd, name.c_str(), t.ts, AT_SYMLINK_NOFOLLOW), "set mtime");
  }

  // Leaves directories until `parent` is the innermost open one.
  Status PopTo(const std::string& parent) {
    while (!stack_.empty() && stack_.back().path != parent) RETURN_IF_ERROR(PopDir());
    if (stack_.empty()) {
      return MakeError(ErrorCode::kInternal, "walk left directory " + parent + " early");
    }
    return Ok();
  }

  Status PopDir() {
    OpenDir dir = std::move(stack_.back());
    stack_.pop_back();
    Status applied = ApplyFdAttrs(dir.fd.get(), dir.inode);
    if (!applied) return applied.error().Wrap(dir.path);
    return Ok();
  }

  const Image& image_;
  UniqueFd target_;
  const bool chown_;  // only root can give files away
  std::vector<OpenDir> stack_;
  std::unordered_map<uint64_t, std::string> first_name_;  // nid -> image path (nlink > 1)
  UnpackStats stats_;
};

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

Status CheckEmpty(int fd, const std::string& dir) {
  const int copy = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return ErrnoError(errno, "open " + dir);
  std::unique_ptr<DIR, DirCloser> d(::fdopendir(copy));
  if (!d) {
    const int err = errno;
    ::close(copy);
    return ErrnoError(err, "read " + dir);
  }
  while (const dirent* e = ::readdir(d.get())) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      return MakeError(ErrorCode::kAlreadyExists,
                       dir + ": not empty (unpack writes only into a new or empty directory)");
    }
  }
  return Ok();
}

// Opens the target (created if missing): it must be a directory, not a symlink, and empty.
Result<UniqueFd> OpenEmptyTarget(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoError(errno, "create " + dir);
  }
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid())
    return ErrnoError(errno, "open " + dir + " (must be a directory, not a symlink)");
  RETURN_IF_ERROR(CheckEmpty(fd.get(), dir));
  return fd;
}

}  // namespace

Result<UnpackStats> UnpackToDir(const Image& image, const std::string& dir) {
  TRY(UniqueFd target, OpenEmptyTarget(dir));
  return DirUnpacker(image, std::move(target)).Run();
}

}  // namespace tessera::builder
