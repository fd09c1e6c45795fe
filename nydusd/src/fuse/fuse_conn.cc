#include "fuse/fuse_conn.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::nydusd {
namespace {

constexpr int kNotifyResend = 7;  // FUSE_NOTIFY_RESEND, newer than this system's <linux/fuse.h>

Status WriteAbort(const std::string& dir, unsigned id) {
  const std::string path = dir + "/" + std::to_string(id) + "/abort";
  std::ofstream out(path);
  if (!out) return MakeError(ErrorCode::kNotFound, "no fusectl entry " + path);
  out << "1";
  out.flush();
  if (!out) return MakeError(ErrorCode::kIo, "write " + path);
  return Ok();
}

}  // namespace

std::optional<unsigned> FuseConnectionOf(const std::string& mountpoint) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::optional<unsigned> found;
  while (std::getline(in, line)) {
    // id parent major:minor root mountpoint options ... - fstype source super-options
    std::istringstream f(line);
    std::string id, parent, dev, root, mp;
    f >> id >> parent >> dev >> root >> mp;
    size_t dash = line.find(" - ");
    if (dash == std::string::npos || UnescapeMountField(mp) != mountpoint) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype.rfind("fuse", 0) != 0) continue;
    size_t colon = dev.find(':');
    if (colon == std::string::npos) continue;
    found = static_cast<unsigned>(std::stoul(dev.substr(colon + 1)));  // the last mount wins
  }
  return found;
}

Status AbortFuseConnection(unsigned id) {
  if (WriteAbort("/sys/fs/fuse/connections", id)) return Ok();
  TRY(TempDir dir, TempDir::Create("tessera-fusectl"));
  if (::mount("fusectl", dir.path().c_str(), "fusectl", 0, nullptr) != 0) {
    return ErrnoError(errno, "mount fusectl on " + dir.path());
  }
  Status st = WriteAbort(dir.path(), id);
  ::umount2(dir.path().c_str(), MNT_DETACH);
  return st;
}

Status RequestResend(int fuse_fd) {
  struct fuse_out_header h {};
  h.len = sizeof h;
  h.error = kNotifyResend;
  h.unique = 0;
  if (::write(fuse_fd, &h, sizeof h) != static_cast<ssize_t>(sizeof h)) {
    if (errno == EINVAL) {
      return MakeError(ErrorCode::kUnsupported, "kernel cannot resend FUSE requests (< 6.9)");
    }
    return ErrnoError(errno, "FUSE_NOTIFY_RESEND");
  }
  return Ok();
}

}  // namespace tessera::nydusd
