#include "support/scoped_mount.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "tessera/common/io.h"

namespace tessera::testing {

Result<ScopedMount> ScopedMount::Erofs(const std::string& image, const std::string& mountpoint,
                                       const std::vector<std::string>& devices) {
  if (::mkdir(mountpoint.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError(errno, "mkdir mount point " + mountpoint);
  }
  TRY(MountGuard guard, MountGuard::MountErofs(image, mountpoint, devices));
  std::fprintf(stderr, "[scoped-mount] mounted erofs %s at %s (%zu extra devices)\n", image.c_str(),
               mountpoint.c_str(), devices.size());
  return ScopedMount(std::move(guard), mountpoint);
}

ScopedMount::~ScopedMount() {
  Status st = Unmount();
  if (!st) std::fprintf(stderr, "[scoped-mount] %s\n", st.error().ToString().c_str());
}

Status ScopedMount::Unmount() {
  if (guard_.mountpoint().empty()) return Ok();
  std::fprintf(stderr, "[scoped-mount] unmounting %s\n", path_.c_str());
  return guard_.Unmount();
}

bool IsMounted(const std::string& path) {
  std::ifstream mounts("/proc/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string source;
    std::string target;
    fields >> source >> target;
    if (UnescapeMountField(target) == path) return true;
  }
  return false;
}

}  // namespace tessera::testing
