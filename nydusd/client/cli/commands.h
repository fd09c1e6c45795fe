// tesseractl's commands: call the API, print human text or JSON. Kept apart from main() so
// tests run them against a fake daemon and read the output.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "options.h"

#include "tessera/nydusd_client/api.h"

namespace tessera::nydusd::client::cli {

// Runs options.command; results go to out, errors (one line, "tesseractl: ...") to err.
// Returns the exit status: 0 success, 1 the daemon failed or could not be reached.
int RunCtl(const CtlOptions& options, std::ostream& out, std::ostream& err);

// "state: running\nversion: ...\n" and the mounts, indented.
std::string FormatStatus(const DaemonInfo& info);
// One line per mount: "MOUNTPOINT TRANSPORT READY/TOTAL chunks cached (P%) bootstrap=PATH".
std::string FormatMountLine(const MountInfo& mount);
// "3d 4h 5m 6s", omitting leading zero units ("42s").
std::string FormatDuration(uint64_t seconds);

}  // namespace tessera::nydusd::client::cli
