// Which Prepare labels make a layer remote, and the labels its committed snapshot keeps.
#include <gtest/gtest.h>

#include "remote/labels.h"

namespace tessera::snapshotter::internal {
namespace {

TEST(RemoteLabels, KindFromAnnotationsOrContainerdLabels) {
  EXPECT_EQ(RemoteKindOfPrepare({}), RemoteKind::kNone);
  EXPECT_EQ(RemoteKindOfPrepare({{"io.tessera.image.blob", "true"}}), RemoteKind::kBlob);
  EXPECT_EQ(RemoteKindOfPrepare({{"containerd.io/snapshot/tessera.bootstrap", "true"}}),
            RemoteKind::kBootstrap);
  EXPECT_EQ(RemoteKindOfPrepare({{"io.tessera.image.blob", "false"}}), RemoteKind::kNone);
  EXPECT_EQ(RemoteKindOfSnapshot({{"io.tessera.snapshot.remote", "bootstrap"}}),
            RemoteKind::kBootstrap);
}

TEST(RemoteLabels, WithoutSnapshotRefNamesOurPullCommand) {
  auto labels = RemoteSnapshotLabels({{"io.tessera.image.blob", "true"}}, RemoteKind::kBlob);
  ASSERT_FALSE(labels.has_value());
  EXPECT_EQ(labels.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(labels.error().context.find("tesseractl pull"), std::string::npos);
}

TEST(RemoteLabels, BootstrapPinsTheImageToItsManifest) {
  Labels in = {{"containerd.io/snapshot.ref", "sha256:cc"},
               {"containerd.io/snapshot/cri.image-ref", "127.0.0.1:5000/img:v1"},
               {"containerd.io/snapshot/cri.manifest-digest", "sha256:dd"}};
  auto out = RemoteSnapshotLabels(in, RemoteKind::kBootstrap);
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  EXPECT_EQ(out->at("io.tessera.snapshot.remote"), "bootstrap");
  EXPECT_EQ(out->at("io.tessera.snapshot.image"), "127.0.0.1:5000/img:v1@sha256:dd");
  EXPECT_EQ(out->at("containerd.io/snapshot.ref"), "sha256:cc");
  in.erase("containerd.io/snapshot/cri.image-ref");
  EXPECT_FALSE(RemoteSnapshotLabels(in, RemoteKind::kBootstrap).has_value());
}

}  // namespace
}  // namespace tessera::snapshotter::internal
