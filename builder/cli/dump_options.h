// Command-line options of `tessera-image dump`, parsed apart from running the command so the
// parser can be tested on its own.
//
// Thread-safety: plain values and a reentrant function.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/common/result.h"

namespace tessera::builder::cli {

struct DumpOptions {
  bool help = false;
  bool json = false;
  std::vector<std::string> devices;  // --device PATH, in device-table order
  std::string image;
  std::optional<std::string> path;  // show one entry instead of the whole tree
};

// Usage text for `dump --help` and usage errors.
const char* DumpUsage();

// Parses the arguments after "dump" (args[0] is the first option or operand). Returns
// kInvalidArgument naming the offending argument on a usage error.
Result<DumpOptions> ParseDumpOptions(const std::vector<std::string>& args);

}  // namespace tessera::builder::cli
