// Command-line options of tesseractl, parsed without global state so tests call the parser
// directly.
#pragma once

#include <chrono>
#include <string>

#include "tessera/common/result.h"

namespace tessera::nydusd::client::cli {

enum class Command { kNone, kStatus, kMetrics, kMounts, kRegistryAuth };

struct CtlOptions {
  std::string apisock;  // --apisock, $TESSERAD_APISOCK, or the default socket
  Command command = Command::kNone;
  bool json = false;                         // --json (status, mounts)
  std::chrono::milliseconds timeout{10000};  // --timeout SECONDS
  // registry-auth: new registry credentials for running mounts (PUT /api/v1/config).
  std::string auth_user, auth_password_file, auth_mountpoint, auth_host;
  bool help = false;  // --help given: print help_text, exit 0
  std::string help_text;
};

// Parses argv (argv[0] is the program name). A usage error is kInvalidArgument whose context
// is the message to print; --help sets help and help_text.
Result<CtlOptions> ParseCtlOptions(int argc, const char* const* argv);

}  // namespace tessera::nydusd::client::cli
