// Runs tesserad over an image built by tessera-image, for the daemon integration tests: starts
// it as a child process, waits for the FUSE mount, and always stops it (SIGTERM, then SIGKILL
// and a lazy unmount) in teardown, even when a test fails.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "builder_fixture.h"

#include "tessera/common/process.h"

namespace tessera::testing {

class DaemonTest : public BuilderTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Builds `src` into Path("image.boot") + blobs_; returns the blob id.
  std::string BuildImage(const std::string& src, std::vector<std::string> extra = {});
  // Starts tesserad on the image; mountpoint Path("mnt"), cache Path("cache").
  void StartDaemon(std::vector<std::string> extra = {});
  // SIGTERM and wait; expects a clean exit and no mount left.
  void StopDaemon();
  // SIGKILL (a crash), then detach what it left.
  void KillDaemon();
  bool Mounted() const;
  // Reads a whole file through the mount; errno on failure.
  Result<std::vector<uint8_t>> ReadAll(const std::string& path) const;
  // Metrics text from the daemon's API socket (via tesseractl), or "" if unavailable.
  std::string Metrics();
  // Value of a metric line "name value" (no labels), or -1.
  static double MetricValue(const std::string& text, const std::string& name);

  // FUSE over io_uring (the kernel's fuse module parameter enable_uring): turned on for this
  // test (and back afterwards); false, with the reason in *why, if this kernel has no such thing.
  bool EnableKernelUring(std::string* why);

  std::string boot_, mnt_, cache_, sock_;
  std::optional<ChildProcess> daemon_;
  // With TESSERA_FUSE_URING=1 in the environment every test of this fixture runs with io_uring
  // on, and every daemon started without a supervisor must serve over it.
  bool uring_run_ = false;
  std::optional<char> uring_saved_;  // the parameter's value before the test
};

}  // namespace tessera::testing
