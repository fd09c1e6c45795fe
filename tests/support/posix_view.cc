// TreeView over a real directory tree.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "support/tree_view.h"

namespace tessera::testing {
namespace {

class PosixFileReader final : public FileReader {
 public:
  PosixFileReader(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError(errno, "pread " + path_ + " at " + std::to_string(offset));
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

 private:
  UniqueFd fd_;
  std::string path_;
};

// lgetxattr/llistxattr with a size probe, retried when the attribute grows in between.
Result<std::string> GetXattrValue(const std::string& path, const std::string& name) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    ssize_t size = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (size < 0) return ErrnoError(errno, "lgetxattr " + name + " of " + path);
    std::string value(static_cast<size_t>(size), '\0');
    ssize_t got = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (got >= 0) {
      value.resize(static_cast<size_t>(got));
      return value;
    }
    if (errno != ERANGE) return ErrnoError(errno, "lgetxattr " + name + " of " + path);
  }
  return ErrnoError(ERANGE, "lgetxattr " + name + " of " + path + " keeps changing");
}

Result<std::vector<std::string>> ListXattrNames(const std::string& path) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
    if (size < 0) return ErrnoError(errno, "llistxattr " + path);
    std::string buf(static_cast<size_t>(size), '\0');
    ssize_t got = ::llistxattr(path.c_str(), buf.data(), buf.size());
    if (got < 0 && errno == ERANGE) continue;
    if (got < 0) return ErrnoError(errno, "llistxattr " + path);
    std::vector<std::string> names;
    for (size_t pos = 0; pos < static_cast<size_t>(got);) {
      size_t end = buf.find('\0', pos);
      if (end == std::string::npos) end = static_cast<size_t>(got);
      if (end > pos) names.push_back(buf.substr(pos, end - pos));
      pos = end + 1;
    }
    return names;
  }
  return ErrnoError(ERANGE, "llistxattr " + path + " keeps changing");
}

class PosixView final : public TreeView {
 public:
  explicit PosixView(std::string root) : root_(std::move(root)) {}

  std::string Name() const override { return "dir " + root_; }

  Result<EntryAttrs> Stat(const std::string& path) const override {
    struct stat st {};
    if (::lstat(Full(path).c_str(), &st) != 0) return ErrnoError(errno, "lstat " + Full(path));
    EntryAttrs a;
    a.mode = st.st_mode;
    a.uid = st.st_uid;
    a.gid = st.st_gid;
    a.size = static_cast<uint64_t>(st.st_size);
    a.mtime = st.st_mtim.tv_sec;
    a.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
    a.nlink = st.st_nlink;
    a.rdev = st.st_rdev;
    a.ino = st.st_ino;
    a.dev = st.st_dev;
    return a;
  }

  Result<std::vector<std::string>> List(const std::string& path) const override {
    DIR* dir = ::opendir(Full(path).c_str());
    if (dir == nullptr) return ErrnoError(errno, "opendir " + Full(path));
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* ent = ::readdir(dir)) {
      std::string name = ent->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
      errno = 0;
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) return ErrnoError(err, "readdir " + Full(path));
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<std::string> ReadLink(const std::string& path) const override {
    std::string target(8192, '\0');
    ssize_t n = ::readlink(Full(path).c_str(), target.data(), target.size());
    if (n < 0) return ErrnoError(errno, "readlink " + Full(path));
    target.resize(static_cast<size_t>(n));
    return target;
  }

  Result<std::vector<erofs::Xattr>> Xattrs(const std::string& path) const override {
    TRY(std::vector<std::string> names, ListXattrNames(Full(path)));
    std::sort(names.begin(), names.end());
    std::vector<erofs::Xattr> xattrs;
    for (auto& name : names) {
      TRY(std::string value, GetXattrValue(Full(path), name));
      xattrs.push_back({std::move(name), std::move(value)});
    }
    return xattrs;
  }

  Result<std::unique_ptr<FileReader>> Open(const std::string& path) const override {
    TRY(UniqueFd fd, UniqueFd::Open(Full(path), O_RDONLY | O_NOFOLLOW));
    return std::unique_ptr<FileReader>(new PosixFileReader(std::move(fd), Full(path)));
  }

 private:
  std::string Full(const std::string& path) const {
    return path.empty() ? root_ : root_ + "/" + path;
  }
  std::string root_;
};

}  // namespace

std::string JoinViewPath(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

std::unique_ptr<TreeView> MakePosixView(const std::string& root) {
  return std::make_unique<PosixView>(root);
}

}  // namespace tessera::testing
