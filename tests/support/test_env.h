// The environment integration tests run in: where the build's binaries are, which kernel and
// tool facilities exist, and running external commands with their output captured.
//
// Thread-safety: reentrant functions; RunCapture forks.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/common/result.h"

namespace tessera::testing {

// The directory holding the build's executables: $TESSERA_BIN_DIR if set, else the
// TESSERA_BIN_DIR compile definition (the build's bin dir).
std::string BinDir();

// BinDir() + "/" + name.
std::string BinPath(const std::string& name);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
};

// Runs argv (PATH searched) to completion and captures stdout and stderr together.
Result<CommandResult> RunCapture(const std::vector<std::string>& argv);

// "$ a b c\n<output>\nexit code N" for assertion messages.
std::string Describe(const std::vector<std::string>& argv, const CommandResult& result);

// Why kernel EROFS tests cannot run here (not root, no erofs in /proc/filesystems), or nullopt.
std::optional<std::string> MissingKernelErofs();

// Why a program is missing from PATH (or BinDir for tessera-* names), or nullopt.
std::optional<std::string> MissingProgram(const std::string& name);

// One difference per line, numbered, for assertion messages.
std::string FormatDiffs(const std::vector<std::string>& diffs);

}  // namespace tessera::testing
