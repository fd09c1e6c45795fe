// tesserad with the registry backend, for the registry integration tests: a real
// docker-registry on 127.0.0.1 (tests/support/registry_server.h), an image built by
// tessera-image and pushed as a Tessera OCI image (one blob layer, the bootstrap layer, a
// config, a manifest), and tesserad started with --image. Everything is stopped in teardown.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "daemon_fixture.h"
#include "support/registry_server.h"

#include "tessera/oci/registry.h"

namespace tessera::testing {

class DaemonRegistryTest : public DaemonTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts registry_ with the options.
  void StartRegistry(const test::RegistryServerOptions& options = {});
  // Builds src (tessera-image create + extra) and pushes it to registry_ as repo:tag.
  // Returns "host/repo:tag".
  std::string PushImage(const std::string& src, const std::string& repo, const std::string& tag,
                        std::vector<std::string> extra = {});
  // Starts tesserad --image ref with extra flags; waits for the mount (expect_mount) or for
  // the daemon to exit; returns its exit code if it exited, -1 if it mounted.
  int StartImageDaemon(const std::string& ref, std::vector<std::string> extra,
                       bool expect_mount = true);
  // Starts an API-only tesserad (--apisock sock_, --cache-dir cache_); mounts come through the API.
  void StartApiDaemon();
  std::string DaemonLog() const;
  // Metric value from the API (0 when absent).
  double Metric(const std::string& name);
  // A read through the mount, timed.
  struct TimedRead {
    Result<std::vector<uint8_t>> bytes = std::vector<uint8_t>{};
    std::chrono::milliseconds took{0};
  };
  TimedRead Read(const std::string& path) const;
  oci::RegistryOptions PushOptions() const;

  test::RegistryServerOptions registry_options_;
  std::unique_ptr<test::RegistryServer> registry_;
  Created image_;
  std::string bootstrap_layer_digest_;
};

}  // namespace tessera::testing
