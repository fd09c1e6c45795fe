#include "support/tree_gen.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "support/data_gen.h"
#include "support/tree_gen_internal.h"

#include "tessera/common/io.h"

namespace tessera::testing::internal {

Status Check(int rc, const std::string& what) {
  if (rc != 0) return ErrnoError(errno, what);
  return Ok();
}

Status TreeBuilder::Mkdir(const std::string& rel, mode_t mode) {
  RETURN_IF_ERROR(Check(::mkdir(P(rel).c_str(), 0700), "mkdir " + P(rel)));
  return Chmod(rel, mode);
}

Status TreeBuilder::File(const std::string& rel, uint64_t size, ContentKind kind, mode_t mode) {
  RETURN_IF_ERROR(WriteContentFile(P(rel), size, kind, HashString(rel), 0600));
  return Chmod(rel, mode);
}

Status TreeBuilder::Text(const std::string& rel, const std::string& text, mode_t mode) {
  RETURN_IF_ERROR(
      WriteFile(P(rel), {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, 0600));
  return Chmod(rel, mode);
}

Status TreeBuilder::Symlink(const std::string& target, const std::string& rel) {
  return Check(::symlink(target.c_str(), P(rel).c_str()), "symlink " + P(rel));
}

Status TreeBuilder::Node(const std::string& rel, mode_t type, dev_t dev, mode_t mode) {
  RETURN_IF_ERROR(Check(::mknod(P(rel).c_str(), type | 0600, dev), "mknod " + P(rel)));
  return Chmod(rel, mode);
}

Status TreeBuilder::Socket(const std::string& rel, mode_t mode) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (P(rel).size() >= sizeof(addr.sun_path)) {
    // Too long for bind(2): mknod creates the same kind of inode.
    return Node(rel, S_IFSOCK, 0, mode);
  }
  std::memcpy(addr.sun_path, P(rel).c_str(), P(rel).size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoError(errno, "socket for " + P(rel));
  RETURN_IF_ERROR(
      Check(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), "bind " + P(rel)));
  fd.Reset();
  return Chmod(rel, mode);
}

Status TreeBuilder::Link(const std::string& existing, const std::string& rel) {
  // linkat without AT_SYMLINK_FOLLOW links a symlink itself, not its target.
  return Check(::linkat(AT_FDCWD, P(existing).c_str(), AT_FDCWD, P(rel).c_str(), 0),
               "link " + P(rel));
}

Status TreeBuilder::Xattr(const std::string& rel, const std::string& name,
                          const std::string& value) {
  return Check(::lsetxattr(P(rel).c_str(), name.c_str(), value.data(), value.size(), 0),
               "lsetxattr " + name + " on " + P(rel));
}

Status TreeBuilder::Own(const std::string& rel, uid_t uid, gid_t gid) {
  return Check(::lchown(P(rel).c_str(), uid, gid), "lchown " + P(rel));
}

Status TreeBuilder::Chmod(const std::string& rel, mode_t mode) {
  return Check(::fchmodat(AT_FDCWD, P(rel).c_str(), mode, 0), "chmod " + P(rel));
}

void TreeBuilder::Time(const std::string& rel, int64_t sec, long nsec) {
  times_[rel] = timespec{static_cast<time_t>(sec), nsec};
}

timespec TreeBuilder::DefaultTime(const std::string& rel) const {
  if (rel.rfind(std::string(kEdgeBigDir) + "/", 0) == 0) return {kBaseTime, 0};
  uint64_t h = HashString(rel);
  return {static_cast<time_t>(kBaseTime + static_cast<int64_t>(h % 100000)),
          static_cast<long>((h >> 20) % 1000000000)};
}

Status TreeBuilder::ApplyTimes(const std::string& rel) {
  struct stat st {};
  RETURN_IF_ERROR(Check(::lstat(P(rel).c_str(), &st), "lstat " + P(rel)));
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = ::opendir(P(rel).c_str());
    if (dir == nullptr) return ErrnoError(errno, "opendir " + P(rel));
    std::vector<std::string> names;
    while (struct dirent* ent = ::readdir(dir)) {
      std::string name = ent->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      RETURN_IF_ERROR(ApplyTimes(rel.empty() ? name : rel + "/" + name));
    }
  }
  auto it = times_.find(rel);
  timespec t = it != times_.end() ? it->second : DefaultTime(rel);
  timespec both[2] = {t, t};
  return Check(::utimensat(AT_FDCWD, P(rel).c_str(), both, AT_SYMLINK_NOFOLLOW),
               "utimensat " + P(rel));
}

}  // namespace tessera::testing::internal

namespace tessera::testing {

Status GenerateEdgeCaseTree(const std::string& dir, const EdgeCaseOptions& options) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError(errno, "mkdir " + dir);
  }
  internal::TreeBuilder b(dir);
  RETURN_IF_ERROR(internal::AddStructure(b, options.max_length_names ? 255 : 254));
  RETURN_IF_ERROR(internal::AddFilesAndLinks(b));
  RETURN_IF_ERROR(internal::AddSpecialsAndLinks(b));
  RETURN_IF_ERROR(internal::AddOwnersModesTimes(b));
  RETURN_IF_ERROR(internal::AddXattrsAndOverlay(b));
  return b.ApplyTimes("");
}

}  // namespace tessera::testing
