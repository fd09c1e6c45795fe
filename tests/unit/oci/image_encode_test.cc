#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tessera/oci/image.h"

namespace tessera::oci {
namespace {

std::span<const uint8_t> B(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Descriptor D(const std::string& type, char hex, uint64_t size) {
  return Descriptor{type, "sha256:" + std::string(64, hex), size, {}, {}, {}};
}

TEST(EncodeManifestTest, IsCanonicalAndParsesBack) {
  Manifest m;
  m.media_type = std::string(media::kOciManifest);
  m.config = D(std::string(media::kOciConfig), 'c', 10);
  m.layers = {D(std::string(tessera_image::kBlobMediaType), '1', 100),
              D(std::string(media::kOciLayerGzip), '2', 200)};
  m.layers[1].annotations[std::string(tessera_image::kAnnotationBootstrap)] = "true";
  m.annotations["z"] = "last";
  std::string json = EncodeManifest(m);
  EXPECT_TRUE(json.starts_with(R"({"schemaVersion":2,"mediaType":")")) << json;
  EXPECT_EQ(json.find(' '), std::string::npos);
  auto back = ParseManifest(B(json));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(EncodeManifest(*back), json);
  EXPECT_TRUE(IsTesseraBlob(back->layers[0]));
  EXPECT_FALSE(IsTesseraBlob(back->layers[1]));
  EXPECT_TRUE(IsTesseraBootstrap(back->layers[1]));
  EXPECT_TRUE(IsTesseraManifest(*back));
  back->layers.pop_back();
  EXPECT_FALSE(IsTesseraManifest(*back));
}

TEST(EncodeIndexTest, KeepsPlatforms) {
  Index index;
  Descriptor d = D(std::string(media::kOciManifest), 'a', 5);
  d.platform = Platform{"linux", "arm64", "v8"};
  index.manifests.push_back(d);
  auto back = ParseIndex(B(EncodeIndex(index)));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->media_type, media::kOciIndex);
  EXPECT_EQ(back->manifests.at(0).platform->variant, "v8");
}

TEST(RewriteConfigTest, ReplacesDiffIdsAndBalancesHistory) {
  std::string config = R"({"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},)"
                       R"("rootfs":{"type":"layers","diff_ids":["sha256:)" +
                       std::string(64, '1') +
                       R"("]},"history":[{"created_by":"base"},)"
                       R"({"created_by":"env","empty_layer":true},{"created_by":"add"}]})";
  std::vector<std::string> ids = {"sha256:" + std::string(64, 'a'),
                                  "sha256:" + std::string(64, 'b'),
                                  "sha256:" + std::string(64, 'c')};
  auto out = RewriteConfig(config, ids, "tessera convert");
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  auto doc = nlohmann::json::parse(*out);
  EXPECT_EQ(doc["rootfs"]["diff_ids"].size(), 3u);
  EXPECT_EQ(doc["config"]["Cmd"][0], "sh");
  int layers = 0;
  for (const auto& h : doc["history"]) {
    if (!h.value("empty_layer", false)) ++layers;
  }
  EXPECT_EQ(layers, 3);
  EXPECT_EQ(doc["history"].back()["created_by"], "tessera convert");
  // Fewer layers than history entries: the extra layer entries go, empty ones stay.
  auto fewer = RewriteConfig(config, {ids[0]}, "x");
  ASSERT_TRUE(fewer.has_value());
  auto f = nlohmann::json::parse(*fewer);
  ASSERT_EQ(f["history"].size(), 2u);
  EXPECT_EQ(f["history"][0]["created_by"], "base");
  EXPECT_TRUE(f["history"][1]["empty_layer"].get<bool>());
  EXPECT_FALSE(RewriteConfig("[1]", ids, "x").has_value());
  EXPECT_FALSE(RewriteConfig(config, {"sha256:zz"}, "x").has_value());
}

TEST(DigestTest, ValidatesAndVerifies) {
  std::string data = "hello";
  std::string d = DigestOf(B(data));
  EXPECT_EQ(d, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_TRUE(ValidateDigest(d).has_value());
  EXPECT_FALSE(ValidateDigest("sha256:" + std::string(63, 'a')).has_value());
  EXPECT_FALSE(ValidateDigest("md5:" + std::string(64, 'a')).has_value());
  EXPECT_FALSE(ValidateDigest("").has_value());
  EXPECT_TRUE(VerifyContent(B(data), d, 5, "x").has_value());
  auto wrong_size = VerifyContent(B(data), d, 6, "blob X");
  ASSERT_FALSE(wrong_size.has_value());
  EXPECT_EQ(wrong_size.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(wrong_size.error().context.find("blob X"), std::string::npos);
  EXPECT_FALSE(VerifyContent(B("hellO"), d, 5, "x").has_value());
}

TEST(PlatformTest, ParsesAndMatches) {
  auto p = Platform::Parse("linux/arm64/v8");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->variant, "v8");
  EXPECT_TRUE(p->Matches(Platform{"linux", "arm64", ""}));
  EXPECT_FALSE(p->Matches(Platform{"linux", "arm64", "v7"}));
  EXPECT_FALSE(p->Matches(Platform{"linux", "amd64", ""}));
  for (const char* bad : {"linux", "linux/", "/amd64", "a/b/c/d", ""}) {
    EXPECT_FALSE(Platform::Parse(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace tessera::oci
