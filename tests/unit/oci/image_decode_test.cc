#include <gtest/gtest.h>

#include "tessera/oci/image.h"

namespace tessera::oci {
namespace {

std::span<const uint8_t> B(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');

std::string Desc(const std::string& extra = "") {
  return R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + kDigestB +
         R"(","size":42)" + extra + "}";
}

std::string ManifestWithLayers(const std::string& layers) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
         R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
         kDigestA + R"(","size":7},"layers":[)" + layers + "]}";
}

TEST(ParseManifestTest, DecodesAValidManifest) {
  std::string doc = ManifestWithLayers(Desc(R"(,"annotations":{"k":"v"},"urls":["http://x"])"));
  auto m = ParseManifest(B(doc));
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->media_type, media::kOciManifest);
  EXPECT_EQ(m->config.digest, kDigestA);
  EXPECT_EQ(m->config.size, 7u);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 42u);
  EXPECT_EQ(m->layers[0].annotations.at("k"), "v");
  EXPECT_EQ(m->layers[0].urls.at(0), "http://x");
}

TEST(ParseManifestTest, NamesTheOffendingField) {
  std::string bad_digest = R"({"mediaType":"x","digest":"sha256:abc","size":1})";
  std::string doc = ManifestWithLayers(Desc() + "," + Desc() + "," + bad_digest);
  auto m = ParseManifest(B(doc));
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(m.error().context.find("manifest: layers[2].digest"), std::string::npos)
      << m.error().context;
}

struct BadCase {
  const char* name;
  std::string doc;
  const char* field;
};

TEST(ParseManifestTest, RejectsHostileAndOddDocuments) {
  std::vector<BadCase> cases = {
      {"not json", "{", "manifest"},
      {"array", "[]", "manifest"},
      {"empty", "", "manifest"},
      {"no schemaVersion", R"({"config":{},"layers":[]})", "schemaVersion"},
      {"schemaVersion 1", R"({"schemaVersion":1})", "schemaVersion"},
      {"schemaVersion string", R"({"schemaVersion":"2"})", "schemaVersion"},
      {"no config", R"({"schemaVersion":2,"layers":[]})", "config"},
      {"negative size",
       ManifestWithLayers(R"({"mediaType":"x","digest":")" + kDigestA + R"(","size":-1})"),
       "layers[0].size"},
      {"float size",
       ManifestWithLayers(R"({"mediaType":"x","digest":")" + kDigestA + R"(","size":1.5})"),
       "layers[0].size"},
      {"huge size",
       ManifestWithLayers(R"({"mediaType":"x","digest":")" + kDigestA + R"(","size":1e400})"),
       "manifest"},
      {"layers object", ManifestWithLayers("").replace(ManifestWithLayers("").find("[]"), 2, "{}"),
       "layers"},
      {"layer not object", ManifestWithLayers("3"), "layers[0]"},
      {"uppercase digest",
       ManifestWithLayers(R"({"mediaType":"x","digest":"sha256:)" + std::string(64, 'A') +
                          R"(","size":1})"),
       "layers[0].digest"},
      {"sha512",
       ManifestWithLayers(R"({"mediaType":"x","digest":"sha512:)" + std::string(128, 'a') +
                          R"(","size":1})"),
       "layers[0].digest"},
      {"annotation not string", ManifestWithLayers(Desc(R"(,"annotations":{"k":1})")),
       "layers[0].annotations.k"},
      {"index media type",
       R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"})", "mediaType"},
  };
  for (const auto& c : cases) {
    auto m = ParseManifest(B(c.doc));
    ASSERT_FALSE(m.has_value()) << c.name;
    EXPECT_EQ(m.error().code, ErrorCode::kCorrupt) << c.name;
    EXPECT_NE(m.error().context.find(c.field), std::string::npos)
        << c.name << ": " << m.error().context;
  }
}

TEST(ParseManifestTest, TransportTypeMustAgreeWithTheDocument) {
  std::string doc = ManifestWithLayers("");
  EXPECT_TRUE(ParseManifest(B(doc), media::kOciManifest).has_value());
  EXPECT_FALSE(ParseManifest(B(doc), media::kDockerManifest).has_value());
  std::string docker = doc;
  docker.replace(docker.find("application/vnd.oci.image.manifest.v1+json"),
                 std::string(media::kOciManifest).size(), std::string(media::kDockerManifest));
  auto m = ParseManifest(B(docker));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->media_type, media::kDockerManifest);
}

TEST(ParseManifestTest, DeepNestingDoesNotCrash) {
  std::string deep =
      R"({"schemaVersion":2,"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto m = ParseManifest(B(deep));
  EXPECT_FALSE(m.has_value());
}

TEST(ParseIndexTest, DecodesPlatforms) {
  std::string doc = R"({"schemaVersion":2,"manifests":[)" +
                    Desc(R"(,"platform":{"os":"linux","architecture":"arm64","variant":"v8"})") +
                    "]}";
  auto index = ParseIndex(B(doc));
  ASSERT_TRUE(index.has_value()) << index.error().ToString();
  EXPECT_EQ(index->media_type, media::kOciIndex);
  ASSERT_TRUE(index->manifests.at(0).platform.has_value());
  EXPECT_EQ(index->manifests[0].platform->ToString(), "linux/arm64/v8");
  std::string bad =
      R"({"schemaVersion":2,"manifests":[)" + Desc(R"(,"platform":{"os":"linux"})") + "]}";
  auto e = ParseIndex(B(bad));
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().context.find("index: manifests[0].platform.architecture"), std::string::npos)
      << e.error().context;
}

TEST(ParseImageConfigTest, ReadsPlatformAndDiffIds) {
  std::string doc = R"({"architecture":"amd64","os":"linux","config":{"Env":["A=1"]},)"
                    R"("rootfs":{"type":"layers","diff_ids":[")" +
                    kDigestA + R"("]}})";
  auto c = ParseImageConfig(B(doc));
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->platform.ToString(), "linux/amd64");
  EXPECT_EQ(c->diff_ids, std::vector<std::string>{kDigestA});
  EXPECT_EQ(c->json, doc);
  std::string bad =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["x"]}})";
  auto e = ParseImageConfig(B(bad));
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().context.find("rootfs.diff_ids[0]"), std::string::npos);
  EXPECT_FALSE(ParseImageConfig(B(R"({"architecture":"amd64","os":"linux"})")).has_value());
}

TEST(ParseDescriptorTest, RoundTripsThroughTheEncoder) {
  auto d = ParseDescriptor(Desc(R"(,"annotations":{"b":"2","a":"1"})"));
  ASSERT_TRUE(d.has_value());
  auto again = ParseDescriptor(EncodeDescriptor(*d));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->digest, d->digest);
  EXPECT_EQ(again->annotations, d->annotations);
  EXPECT_EQ(EncodeDescriptor(*again), EncodeDescriptor(*d));
}

}  // namespace
}  // namespace tessera::oci
