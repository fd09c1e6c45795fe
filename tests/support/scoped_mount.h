// ScopedMount: a test-side wrapper over tessera::MountGuard for EROFS mounts. It creates the
// mount point if needed, logs mount and unmount to stderr (so a failing test's output shows
// what was mounted where), and always unmounts on destruction, lazily if the mount is busy.
//
// Thread-safety: a move-only value used from one thread.
#pragma once

#include <string>
#include <vector>

#include "tessera/common/process.h"
#include "tessera/common/result.h"

namespace tessera::testing {

class ScopedMount {
 public:
  // Mounts `image` (a regular file; file-backed, read-only, via mount(2)) at `mountpoint`,
  // passing one device= per entry of `devices` (absolute paths of regular files).
  static Result<ScopedMount> Erofs(const std::string& image, const std::string& mountpoint,
                                   const std::vector<std::string>& devices = {});

  ScopedMount(ScopedMount&&) noexcept = default;
  ScopedMount& operator=(ScopedMount&&) noexcept = default;
  ~ScopedMount();

  const std::string& path() const { return path_; }
  // Unmounts now (lazily if busy); ok if already unmounted.
  Status Unmount();

 private:
  ScopedMount(MountGuard guard, std::string path)
      : guard_(std::move(guard)), path_(std::move(path)) {}
  MountGuard guard_;
  std::string path_;
};

// True if `path` is a mount point listed in /proc/mounts.
bool IsMounted(const std::string& path);

}  // namespace tessera::testing
