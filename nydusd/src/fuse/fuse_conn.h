// Kernel-side handles on a FUSE connection: which connection serves a mountpoint, aborting it
// through fusectl, and asking the kernel to resend the requests a dead daemon had taken.
//
// Thread-safety: reentrant.
#pragma once

#include <optional>
#include <string>

#include "tessera/common/result.h"

namespace tessera::nydusd {

// The fusectl connection number (the device minor) of the FUSE mount at `mountpoint`, from
// /proc/self/mountinfo (no request reaches the file system); nullopt if it is not mounted.
std::optional<unsigned> FuseConnectionOf(const std::string& mountpoint);

// Aborts connection `id` (fusectl's abort file): every pending and future request fails and
// the daemon's reads of /dev/fuse end. Mounts fusectl in a private directory for the write if
// /sys/fs/fuse/connections is not populated.
Status AbortFuseConnection(unsigned id);

// FUSE_NOTIFY_RESEND (Linux >= 6.9): requests read by a previous daemon and not answered are
// queued again for this one. kUnsupported on older kernels.
Status RequestResend(int fuse_fd);

}  // namespace tessera::nydusd
