// Runs the EROFS image tools the integration tests need: our `tessera-image mkfs/dump` (from
// the build's bin dir) and erofs-utils' `mkfs.erofs` / `fsck.erofs` (from PATH), capturing
// their output for assertion messages.
//
// Thread-safety: reentrant (each call forks a process).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/test_env.h"

#include "tessera/common/result.h"

namespace tessera::testing {

// Fixed superblock time and UUID so that images are reproducible.
inline constexpr int64_t kFixedBuildTime = 1600000000;
inline constexpr char kFixedUuid[] = "2c8e6f3a-1b7d-4e59-9a0c-5d4f3e2b1a09";

// A command line and what running it gave.
struct ToolRun {
  std::vector<std::string> argv;
  CommandResult result;
  bool ok() const { return result.exit_code == 0; }
  std::string Describe() const { return testing::Describe(argv, result); }
};

// `tessera-image mkfs -T <build_time> --uuid kFixedUuid SOURCE IMAGE`.
Result<ToolRun> TesseraMkfs(const std::string& source, const std::string& image,
                            int64_t build_time = kFixedBuildTime);

// `tessera-image dump [--device D]... IMAGE [PATH]`.
Result<ToolRun> TesseraDump(const std::string& image, const std::string& path = "",
                            const std::vector<std::string>& devices = {});

// `fsck.erofs [--device=D]... IMAGE`.
Result<ToolRun> FsckErofs(const std::string& image, const std::vector<std::string>& devices = {});

// `mkfs.erofs --quiet -U kFixedUuid EXTRA... IMAGE SOURCE` (erofs-utils).
Result<ToolRun> MkfsErofs(const std::string& source, const std::string& image,
                          const std::vector<std::string>& extra = {});

// Whether two files hold the same bytes; on a difference, `where` gets the first offset.
Result<bool> SameFileBytes(const std::string& a, const std::string& b, uint64_t* where = nullptr);

}  // namespace tessera::testing
