// Shared steps of the builder integration tests: run tessera-image, export raw devices, mount
// a bootstrap with the kernel and compare it with a directory.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/scoped_mount.h"
#include "support/test_env.h"
#include "support/tree_compare.h"

#include "tessera/common/process.h"

namespace tessera::testing {

class BuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = MissingKernelErofs()) GTEST_SKIP() << *why;
    if (auto why = MissingProgram("fsck.erofs")) GTEST_SKIP() << *why;
    auto dir = TempDir::Create("builder_it");
    ASSERT_TRUE(dir) << dir.error().ToString();
    tmp_ = std::make_unique<TempDir>(std::move(*dir));
    blobs_ = Path("blobs");
    ASSERT_TRUE(MakeDir(blobs_));
  }

  std::string Path(const std::string& name) const { return tmp_->path() + "/" + name; }
  static bool MakeDir(const std::string& path);

  // Runs tessera-image with args; returns stdout+stderr; expects exit code `expect`.
  std::string Image(std::vector<std::string> args, int expect = 0);
  // `create` with extra options; returns the parsed JSON summary's blob_bytes/stored_bytes.
  struct Created {
    uint64_t blob_bytes = 0;
    uint64_t stored_bytes = 0;
    std::string blob_id;
  };
  Created Create(const std::string& source, const std::string& bootstrap,
                 std::vector<std::string> extra = {});
  // Exports the raw devices of `bootstrap` into a fresh directory; returns them in device order.
  std::vector<std::string> Export(const std::string& bootstrap);
  // fsck.erofs with --device for each raw device must pass.
  void Fsck(const std::string& bootstrap, const std::vector<std::string>& devices);
  // Mounts bootstrap + raw devices at a new mount point.
  Result<ScopedMount> Mount(const std::string& bootstrap, const std::vector<std::string>& devices);
  // Expects no differences between two trees.
  void ExpectSameTree(const std::string& expected, const std::string& actual,
                      const CompareOptions& options = {});

  std::unique_ptr<TempDir> tmp_;
  std::string blobs_;
  int counter_ = 0;
};

}  // namespace tessera::testing
