#include "disk_usage.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <set>
#include <utility>

namespace tessera::snapshotter::internal {

Result<Usage> DiskUsage(const std::string& dir) {
  struct stat root_st {};
  if (::lstat(dir.c_str(), &root_st) != 0) return ErrnoError(errno, "stat " + dir);
  std::set<std::pair<dev_t, ino_t>> seen;
  Usage usage;
  auto add = [&](const struct stat& st) {
    if (!seen.insert({st.st_dev, st.st_ino}).second) return;
    usage.inodes++;
    usage.size += static_cast<int64_t>(st.st_blocks) * 512;
  };
  add(root_st);
  std::error_code ec;
  namespace fs = std::filesystem;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return MakeError(ErrorCode::kIo, "walk " + dir + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return MakeError(ErrorCode::kIo, "walk " + dir + ": " + ec.message());
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // removed while we walked (an active snapshot)
      return ErrnoError(errno, "stat " + it->path().string());
    }
    if (S_ISDIR(st.st_mode) && st.st_dev != root_st.st_dev) it.disable_recursion_pending();
    add(st);
  }
  if (ec) return MakeError(ErrorCode::kIo, "walk " + dir + ": " + ec.message());
  return usage;
}

}  // namespace tessera::snapshotter::internal
