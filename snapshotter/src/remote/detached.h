// Process and mount helpers for the tesserad daemons: starting a detached process, finding
// and killing it again, and detaching mounts.
//
// Thread-safety: reentrant.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tessera/common/result.h"

namespace tessera::snapshotter::internal {

// Starts argv (PATH searched) in a new session, reparented away from this process (double
// fork), stdin /dev/null, stdout and stderr appended to log_path, all signals unblocked.
// Returns its pid.
Result<pid_t> SpawnDetached(const std::vector<std::string>& argv, const std::string& log_path);

// True if pid runs (not a zombie) and its command line contains `needle`.
bool ProcessAlive(pid_t pid, const std::string& needle);

// Live processes whose command line contains every one of `needles`.
std::vector<pid_t> ProcessesMentioning(const std::vector<std::string>& needles);

// Mount points listed in /proc/self/mounts that are `dir` or below it, deepest first.
std::vector<std::string> MountsUnder(const std::string& dir);
bool IsMountPoint(const std::string& path);
// Lazily detaches every mount at or below dir; returns how many.
int DetachMountsUnder(const std::string& dir);

// The last non-empty line of a (log) file, at most 300 bytes; empty if unreadable.
std::string LastLine(const std::string& path);

}  // namespace tessera::snapshotter::internal
