// Shared steps of the `tessera-image convert` integration tests: the cached minbase test image,
// running convert, reading OCI layouts, checking a converted manifest against its config and
// blobs, and mounting a converted image with the kernel to compare it with a reference tree.
#pragma once

#include <string>
#include <vector>

#include "builder_fixture.h"
#include "support/test_image.h"
#include <nlohmann/json.hpp>

namespace tessera::testing {

class ConvertTest : public BuilderTest {
 public:
  // The JSON blob `digest` of an OCI layout.
  static nlohmann::json LayoutJson(const std::string& layout, const std::string& digest);
  // The descriptor index.json tags `tag` (null if none).
  static nlohmann::json LayoutTag(const std::string& layout, const std::string& tag);
  static std::string BlobPath(const std::string& layout, const std::string& digest);

 protected:
  void SetUp() override;

  // Runs `tessera-image convert --json ARGS`; expects exit code `expect`; returns the parsed
  // summary (null on failure; `output` receives stdout+stderr).
  nlohmann::json Convert(std::vector<std::string> args, int expect = 0,
                         std::string* output = nullptr);

  // Checks a converted manifest: Tessera blob layers then the bootstrap layer, annotations,
  // diff_ids (one per layer: a blob's digest, the bootstrap's tar digest) and, for layouts,
  // that every blob exists with its size.
  void ExpectConsistent(const nlohmann::json& manifest, const nlohmann::json& config,
                        const std::string& layout = {});

  // Extracts the bootstrap of a converted manifest in a layout, exports its blobs' raw devices,
  // mounts it with the kernel and compares the tree with `reference`.
  void ExpectMountsAs(const std::string& layout, const nlohmann::json& manifest,
                      const std::string& reference);

  // Builds a second version of the test image as a one-layer layout `dir`:`tag` (the
  // reference tree plus a few changes); returns its umoci-unpacked rootfs.
  std::string MakeSecondVersion(const std::string& dir, const std::string& tag);

  // Starts a private containerd (root, state and sockets below the test directory; stopped
  // before returning) and expects `ctr content fetch` of the registry image `ref` to pull its
  // manifest, config and every layer, and the image to be listed.
  void ExpectContainerdFetches(const std::string& ref);

  // Runs argv, expecting exit code 0; returns stdout+stderr.
  std::string Tool(const std::vector<std::string>& argv);

  // How converted trees are compared with umoci's unpacked references.
  static CompareOptions TreeOptions();

  test::TestImage image_;
};

}  // namespace tessera::testing
