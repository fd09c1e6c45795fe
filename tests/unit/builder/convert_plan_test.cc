// The pure parts of `convert`: which manifests of an index are converted, which source
// manifests are refused, and the shape of the converted manifest and index.
#include <gtest/gtest.h>

#include "convert/convert_internal.h"

#include "tessera/oci/image.h"

namespace tessera::builder::convert {
namespace {

namespace ti = oci::tessera_image;

oci::Descriptor Entry(const std::string& digest_char, const std::string& arch,
                      const std::string& os = "linux") {
  oci::Descriptor d;
  d.media_type = std::string(oci::media::kOciManifest);
  d.digest = "sha256:" + std::string(64, digest_char[0]);
  d.size = 100;
  d.platform = oci::Platform{os, arch, ""};
  return d;
}

oci::Index TwoPlatforms() {
  oci::Index index;
  index.media_type = std::string(oci::media::kOciIndex);
  index.manifests = {Entry("a", "amd64"), Entry("b", "arm64"), Entry("c", "unknown", "unknown")};
  return index;
}

TEST(ConvertPlanTest, SelectsEveryPlatformButAttestations) {
  auto selected = SelectManifests(TwoPlatforms(), std::nullopt);
  ASSERT_TRUE(selected) << selected.error().ToString();
  ASSERT_EQ(selected->size(), 2u);
  EXPECT_EQ((*selected)[0].platform->architecture, "amd64");
  EXPECT_EQ((*selected)[1].platform->architecture, "arm64");
}

TEST(ConvertPlanTest, SelectsOnePlatform) {
  auto selected = SelectManifests(TwoPlatforms(), oci::Platform{"linux", "arm64", ""});
  ASSERT_TRUE(selected) << selected.error().ToString();
  ASSERT_EQ(selected->size(), 1u);
  EXPECT_EQ((*selected)[0].digest, "sha256:" + std::string(64, 'b'));
}

TEST(ConvertPlanTest, MissingPlatformIsNotFound) {
  auto selected = SelectManifests(TwoPlatforms(), oci::Platform{"linux", "s390x", ""});
  ASSERT_FALSE(selected);
  EXPECT_EQ(selected.error().code, ErrorCode::kNotFound);
  EXPECT_NE(selected.error().ToString().find("linux/s390x"), std::string::npos);
}

TEST(ConvertPlanTest, NestedIndexesAreSkipped) {
  oci::Index index;
  oci::Descriptor nested = Entry("d", "amd64");
  nested.media_type = std::string(oci::media::kOciIndex);
  index.manifests = {nested};
  EXPECT_FALSE(SelectManifests(index, std::nullopt));
}

oci::Manifest TarManifest() {
  oci::Manifest m;
  m.media_type = std::string(oci::media::kOciManifest);
  m.config.media_type = std::string(oci::media::kOciConfig);
  m.config.digest = "sha256:" + std::string(64, 'c');
  oci::Descriptor layer;
  layer.digest = "sha256:" + std::string(64, '1');
  layer.media_type = std::string(oci::media::kOciLayerGzip);
  m.layers.push_back(layer);
  layer.media_type = std::string(oci::media::kDockerLayerGzip);
  m.layers.push_back(layer);
  layer.media_type = std::string(oci::media::kOciLayerZstd);
  m.layers.push_back(layer);
  return m;
}

TEST(ConvertPlanTest, AcceptsTarLayers) { EXPECT_TRUE(CheckSourceManifest(TarManifest())); }

TEST(ConvertPlanTest, RefusesAnImageWithoutLayers) {
  oci::Manifest m = TarManifest();
  m.layers.clear();
  EXPECT_EQ(CheckSourceManifest(m).error().code, ErrorCode::kUnsupported);
}

TEST(ConvertPlanTest, RefusesOtherLayerTypes) {
  oci::Manifest m = TarManifest();
  m.layers[1].media_type = "application/vnd.example.helm.chart";
  Status status = CheckSourceManifest(m);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(status.error().ToString().find("layer 1"), std::string::npos);
}

TEST(ConvertPlanTest, BuildsATesseraManifest) {
  oci::Descriptor bootstrap;
  bootstrap.media_type = std::string(oci::media::kOciLayerGzip);
  bootstrap.digest = "sha256:" + std::string(64, 'e');
  bootstrap.annotations[std::string(ti::kAnnotationBootstrap)] = "true";
  oci::Descriptor config = TarManifest().config;
  std::vector<oci::Descriptor> blobs = {BlobLayer("sha256:" + std::string(64, '2'), 10),
                                        BlobLayer("sha256:" + std::string(64, '3'), 20)};
  oci::Manifest m = BuildManifest(blobs, bootstrap, config, "oci:/images:v1");
  ASSERT_EQ(m.layers.size(), 3u);
  EXPECT_TRUE(oci::IsTesseraBlob(m.layers[0]));
  EXPECT_TRUE(oci::IsTesseraBlob(m.layers[1]));
  EXPECT_EQ(m.layers[1].size, 20u);
  EXPECT_TRUE(oci::IsTesseraBootstrap(m.layers[2]));
  EXPECT_TRUE(oci::IsTesseraManifest(m));
  EXPECT_EQ(m.annotations.at(std::string(ti::kAnnotationVersion)), "1");
  EXPECT_EQ(m.annotations.at(std::string(ti::kAnnotationSource)), "oci:/images:v1");
  // A converted image is never converted again.
  EXPECT_EQ(CheckSourceManifest(m).error().code, ErrorCode::kInvalidArgument);
}

TEST(ConvertPlanTest, BuildsAnIndex) {
  oci::Index index = BuildIndex({Entry("a", "amd64"), Entry("b", "arm64")}, "registry/x:1");
  EXPECT_EQ(index.media_type, oci::media::kOciIndex);
  ASSERT_EQ(index.manifests.size(), 2u);
  EXPECT_EQ(index.manifests[1].platform->architecture, "arm64");
  EXPECT_EQ(index.annotations.at(std::string(ti::kAnnotationSource)), "registry/x:1");
}

}  // namespace
}  // namespace tessera::builder::convert
