// A GoogleTest fixture base for tests that mount EROFS images with the kernel: it checks the
// facilities (root, kernel EROFS, erofs-utils, the built tessera-image) and skips with the
// reason when one is missing, or fails instead when TESSERA_REQUIRE_ALL_TESTS=1 (CI on a
// machine that has everything). It owns a temporary directory and the test's mounts, and
// always unmounts and removes them, even when the test fails.
//
// Thread-safety: one fixture per test, as GoogleTest runs them.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "support/scoped_mount.h"

#include "tessera/common/process.h"

namespace tessera::testing {

// The reason this machine cannot run kernel EROFS integration tests (root, kernel EROFS,
// mkfs.erofs and fsck.erofs), or nullopt.
std::optional<std::string> MissingErofsFacilities();

// True when TESSERA_REQUIRE_ALL_TESTS is set to a non-empty value other than "0".
bool SkipsAreFailures();

// GTEST_SKIP with the reason, or GTEST_FAIL when skips are failures. Returns from the caller.
#define TESSERA_SKIP_OR_FAIL(reason)                   \
  do {                                                 \
    if (::tessera::testing::SkipsAreFailures()) {      \
      GTEST_FAIL() << "required facility: " << reason; \
    } else {                                           \
      GTEST_SKIP() << reason;                          \
    }                                                  \
  } while (0)

class ErofsKernelTest : public ::testing::Test {
 protected:
  // Checks MissingErofsFacilities() and the programs of RequiredPrograms().
  void SetUp() override;
  void TearDown() override;

  // A path inside this test's temporary directory.
  std::string Path(const std::string& name) const { return tmp_->path() + "/" + name; }

  // Mounts an image at Path(name) (file-backed, read-only) for the rest of the test; null
  // (with a test failure recorded) if the mount fails.
  const ScopedMount* Mount(const std::string& image, const std::string& name,
                           const std::vector<std::string>& devices = {});

  // Programs a suite needs beyond erofs-utils, e.g. "tessera-image" (found in BinDir()).
  virtual std::vector<std::string> RequiredPrograms() const { return {}; }

 private:
  std::optional<TempDir> tmp_;
  std::deque<ScopedMount> mounts_;  // a deque keeps returned pointers valid
};

}  // namespace tessera::testing
