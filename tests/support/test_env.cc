#include "support/test_env.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tessera/common/io.h"
#include "tessera/common/process.h"

#ifndef TESSERA_BIN_DIR
#error "TESSERA_BIN_DIR must be defined (tests/CMakeLists.txt sets it on tessera_test_support)"
#endif

namespace tessera::testing {

std::string BinDir() {
  const char* env = std::getenv("TESSERA_BIN_DIR");
  if (env != nullptr && *env != '\0') return env;
  return TESSERA_BIN_DIR;
}

std::string BinPath(const std::string& name) { return BinDir() + "/" + name; }

Result<CommandResult> RunCapture(const std::vector<std::string>& argv) {
  TRY(TempDir tmp, TempDir::Create("tessera-run"));
  std::string log = tmp.path() + "/output";
  // Both streams append to one file, so their lines stay in the order they were written.
  ChildProcess::Options options;
  options.argv = argv;
  options.stdout_path = log;
  options.stderr_path = log;
  TRY(ChildProcess child, ChildProcess::Spawn(options));
  CommandResult result;
  TRY(result.exit_code, child.Wait());
  auto bytes = ReadFile(log);
  if (bytes.has_value()) result.output.assign(bytes->begin(), bytes->end());
  return result;
}

std::string Describe(const std::vector<std::string>& argv, const CommandResult& result) {
  std::string text = "$";
  for (const auto& arg : argv) text += " " + arg;
  text += "\n" + result.output;
  if (!result.output.empty() && result.output.back() != '\n') text += "\n";
  return text + "exit code " + std::to_string(result.exit_code);
}

std::optional<std::string> MissingKernelErofs() {
  if (::geteuid() != 0) return "needs root (mount(2), mknod, trusted.* xattrs)";
  std::ifstream filesystems("/proc/filesystems");
  std::string line;
  while (std::getline(filesystems, line)) {
    if (line.find("erofs") != std::string::npos) return std::nullopt;
  }
  return "the kernel has no EROFS support (not in /proc/filesystems)";
}

std::optional<std::string> MissingProgram(const std::string& name) {
  if (name.rfind("tessera-", 0) == 0) {
    if (::access(BinPath(name).c_str(), X_OK) == 0) return std::nullopt;
    return name + " not built at " + BinPath(name);
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return std::nullopt;
  }
  return name + " not found in PATH (Debian package erofs-utils)";
}

std::string FormatDiffs(const std::vector<std::string>& diffs) {
  std::string text;
  for (size_t i = 0; i < diffs.size(); ++i) {
    text += "  [" + std::to_string(i + 1) + "] " + diffs[i] + "\n";
  }
  return text;
}

}  // namespace tessera::testing
