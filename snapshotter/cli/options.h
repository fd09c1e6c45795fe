// Command-line options of tessera-snapshotter, parsed without global state so tests call the
// parser directly. Flags override the config file, which overrides the defaults.
#pragma once

#include <string>

#include "tessera/common/result.h"
#include "tessera/snapshotter/config.h"

namespace tessera::snapshotter::cli {

struct SnapshotterCliOptions {
  Config config;
  bool help = false;  // --help or --version given: print help_text, exit 0
  std::string help_text;
};

// Parses argv (argv[0] is the program name), reading --config FILE first. A usage error or a
// bad config file is kInvalidArgument whose context is the message to print.
Result<SnapshotterCliOptions> ParseOptions(int argc, const char* const* argv);

}  // namespace tessera::snapshotter::cli
