// `tessera-image convert` on a real Debian minbase image (3 layers with whiteouts, made with
// umoci): OCI layout -> layout, registry -> registry (docker-registry on 127.0.0.1), a chunk
// dictionary, a multi-platform index and a corrupt source. Converted images are checked with
// skopeo, against their configs, and by mounting them with the kernel and comparing the tree
// with umoci's unpacked reference.
#include <fstream>

#include "convert_fixture.h"
#include "support/registry_server.h"

#include "tessera/common/digest.h"

namespace tessera::testing {
namespace {

// The manifest and config a layout tag names.
struct LayoutImage {
  nlohmann::json manifest;
  nlohmann::json config;
};

LayoutImage ReadImage(const std::string& layout, const std::string& tag) {
  LayoutImage image;
  nlohmann::json entry = ConvertTest::LayoutTag(layout, tag);
  EXPECT_FALSE(entry.is_null()) << layout << ":" << tag;
  if (entry.is_null()) return image;
  image.manifest = ConvertTest::LayoutJson(layout, entry["digest"]);
  image.config = ConvertTest::LayoutJson(layout, image.manifest["config"]["digest"]);
  return image;
}

// Writes bytes as a blob of the layout; returns the descriptor.
nlohmann::json WriteBlob(const std::string& layout, const std::string& bytes,
                         const std::string& media_type) {
  std::span<const uint8_t> span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  std::string digest = "sha256:" + ToHex(Sha256Of(span));
  std::ofstream(ConvertTest::BlobPath(layout, digest), std::ios::binary) << bytes;
  return {{"mediaType", media_type}, {"digest", digest}, {"size", bytes.size()}};
}

TEST_F(ConvertTest, LayoutToLayout) {
  const std::string out = Path("out");
  nlohmann::json s = Convert({"--source", "oci:" + image_.layout_dir + ":" + image_.tag, "--target",
                              "oci:" + out + ":conv", "--work-dir", Path("")});
  ASSERT_FALSE(s.is_null());
  EXPECT_EQ(s["layers"].size(), 3u);
  EXPECT_GT(s["source_bytes"].get<uint64_t>(), 10u << 20);
  EXPECT_EQ(s["uploaded_bytes"],
            s["target_bytes"].get<uint64_t>() +
                LayoutJson(out, s["digest"])["config"]["size"].get<uint64_t>());
  std::cerr << "layout->layout: source " << s["source_bytes"] << " bytes, target "
            << s["target_bytes"] << " bytes, " << s["seconds"] << " s\n";

  LayoutImage image = ReadImage(out, "conv");
  ExpectConsistent(image.manifest, image.config, out);
  Tool({"skopeo", "inspect", "oci:" + out + ":conv"});
  ExpectMountsAs(out, image.manifest, image_.rootfs_dir);
}

TEST_F(ConvertTest, RegistryToRegistryTwiceUploadsNothingTheSecondTime) {
  auto registry = test::RegistryServer::Start();
  ASSERT_TRUE(registry) << registry.error().ToString();
  const std::string host = (*registry)->host();
  ASSERT_TRUE((*registry)->PushLayout(image_.layout_dir, image_.tag, "src/minbase:1"));
  const std::string target = host + "/conv/minbase:1";
  nlohmann::json first = Convert({"--plain-http", "--source", host + "/src/minbase:1", "--target",
                                  target, "--work-dir", Path("")});
  ASSERT_FALSE(first.is_null());
  EXPECT_GT(first["uploaded_bytes"].get<uint64_t>(), first["target_bytes"].get<uint64_t>() / 2);

  std::string raw =
      Tool({"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + target});
  std::string config =
      Tool({"skopeo", "inspect", "--config", "--raw", "--tls-verify=false", "docker://" + target});
  Tool({"skopeo", "inspect", "--tls-verify=false", "docker://" + target});
  ExpectConsistent(nlohmann::json::parse(raw), nlohmann::json::parse(config));
  ExpectContainerdFetches(target);

  const uint64_t uploads = (*registry)->CountRequests("POST /v2/conv/minbase/blobs/uploads");
  nlohmann::json second = Convert({"--plain-http", "--source", host + "/src/minbase:1", "--target",
                                   target, "--work-dir", Path("")});
  ASSERT_FALSE(second.is_null());
  EXPECT_EQ(second["uploaded_bytes"], 0u);
  EXPECT_EQ(second["uploaded_blobs"], 0u);
  EXPECT_EQ(second["digest"], first["digest"]);  // reproducible
  EXPECT_EQ((*registry)->CountRequests("POST /v2/conv/minbase/blobs/uploads"), uploads);
  std::cerr << "registry->registry: " << first["uploaded_bytes"] << " bytes uploaded in "
            << first["seconds"] << " s; again: " << second["uploaded_bytes"] << " bytes in "
            << second["seconds"] << " s\n";
}

TEST_F(ConvertTest, ChunkDictUploadsOnlyNewChunks) {
  auto registry = test::RegistryServer::Start();
  ASSERT_TRUE(registry) << registry.error().ToString();
  const std::string host = (*registry)->host();
  const std::string v2_dir = Path("v2");
  ASSERT_TRUE(MakeDir(v2_dir));
  const std::string v2_rootfs = MakeSecondVersion(v2_dir, "v2");
  ASSERT_TRUE((*registry)->PushLayout(image_.layout_dir, image_.tag, "src/minbase:1"));
  ASSERT_TRUE((*registry)->PushLayout(v2_dir + "/layout", "v2", "src/minbase:2"));

  nlohmann::json v1 = Convert({"--plain-http", "--source", host + "/src/minbase:1", "--target",
                               host + "/conv/minbase:1", "--work-dir", Path("")});
  ASSERT_FALSE(v1.is_null());
  // v2 goes to another repository: the dictionary's blobs are mounted, not sent.
  nlohmann::json v2 = Convert({"--plain-http", "--source", host + "/src/minbase:2", "--target",
                               host + "/conv/minbase-v2:1", "--chunk-dict",
                               host + "/conv/minbase:1", "--work-dir", Path("")});
  ASSERT_FALSE(v2.is_null());
  const uint64_t up1 = v1["uploaded_bytes"], up2 = v2["uploaded_bytes"];
  std::cerr << "chunk dict: v1 uploaded " << up1 << " bytes, v2 uploaded " << up2 << " bytes ("
            << v2["dict_dedup"] << " of " << v2["chunks"] << " chunks from the dict, "
            << v2["dict_blobs"] << " dict blobs; " << v1["seconds"] << " s and " << v2["seconds"]
            << " s)\n";
  EXPECT_GT(v2["dict_dedup"].get<uint64_t>(), v2["chunks"].get<uint64_t>() * 9 / 10);
  EXPECT_GT(v2["dict_blobs"].get<uint64_t>(), 0u);
  // New in v2: 2 MB of random data plus the bootstrap (a few hundred KiB compressed) and a
  // config; the rest of its 100+ MB is in the dictionary.
  EXPECT_LT(up2, 4u << 20);
  EXPECT_LT(up2 * 8, up1);

  // The v2 image is self-contained: a copy of just what its manifest names mounts as v2.
  const std::string pulled = Path("pulled");
  Tool({"skopeo", "copy", "--src-tls-verify=false", "docker://" + host + "/conv/minbase-v2:1",
        "oci:" + pulled + ":v2"});
  LayoutImage image = ReadImage(pulled, "v2");
  ExpectConsistent(image.manifest, image.config, pulled);
  ExpectMountsAs(pulled, image.manifest, v2_rootfs);
}

TEST_F(ConvertTest, MultiPlatformIndex) {
  const std::string layout = Path("multi");
  Tool({"cp", "-a", image_.layout_dir, layout});
  LayoutImage amd = ReadImage(layout, image_.tag);
  nlohmann::json arm_config = amd.config;
  arm_config["architecture"] = "arm64";
  nlohmann::json arm_manifest = amd.manifest;
  arm_manifest["config"] =
      WriteBlob(layout, arm_config.dump(), "application/vnd.oci.image.config.v1+json");
  const std::string manifest_type = "application/vnd.oci.image.manifest.v1+json";
  nlohmann::json entries = nlohmann::json::array();
  entries.push_back(WriteBlob(layout, amd.manifest.dump(), manifest_type));
  entries.back()["platform"] = {{"os", "linux"}, {"architecture", "amd64"}};
  entries.push_back(WriteBlob(layout, arm_manifest.dump(), manifest_type));
  entries.back()["platform"] = {{"os", "linux"}, {"architecture", "arm64"}};
  const std::string index_type = "application/vnd.oci.image.index.v1+json";
  nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", index_type}, {"manifests", entries}};
  nlohmann::json top = WriteBlob(layout, index.dump(), index_type);
  top["annotations"] = {{"org.opencontainers.image.ref.name", "multi"}};
  nlohmann::json layout_index = {{"schemaVersion", 2}, {"manifests", {top}}};
  std::ofstream(layout + "/index.json") << layout_index.dump();

  const std::string out = Path("out");
  nlohmann::json all = Convert({"--source", "oci:" + layout + ":multi", "--target",
                                "oci:" + out + ":all", "--work-dir", Path("")});
  ASSERT_FALSE(all.is_null());
  EXPECT_EQ(all["platforms"], nlohmann::json({"linux/amd64", "linux/arm64"}));
  // The layers both platforms share are converted once.
  uint64_t layer_bytes = 0;
  for (const auto& l : amd.manifest["layers"]) layer_bytes += l["size"].get<uint64_t>();
  EXPECT_EQ(all["source_bytes"].get<uint64_t>(), layer_bytes);
  nlohmann::json converted = LayoutJson(out, LayoutTag(out, "all")["digest"]);
  ASSERT_EQ(converted["manifests"].size(), 2u);
  for (const auto& entry : converted["manifests"]) {
    nlohmann::json manifest = LayoutJson(out, entry["digest"]);
    nlohmann::json config = LayoutJson(out, manifest["config"]["digest"]);
    EXPECT_EQ(config["architecture"], entry["platform"]["architecture"]);
    ExpectConsistent(manifest, config, out);
  }
  Tool({"skopeo", "inspect", "--override-arch", "arm64", "oci:" + out + ":all"});

  nlohmann::json one = Convert({"--source", "oci:" + layout + ":multi", "--target",
                                "oci:" + out + ":arm", "--platform", "linux/arm64"});
  ASSERT_FALSE(one.is_null());
  EXPECT_EQ(one["platforms"], nlohmann::json({"linux/arm64"}));
  nlohmann::json arm = LayoutJson(out, LayoutTag(out, "arm")["digest"]);
  ASSERT_EQ(arm["manifests"].size(), 1u);
  EXPECT_EQ(arm["manifests"][0]["digest"], converted["manifests"][1]["digest"]);

  std::string output;
  Convert({"--source", "oci:" + image_.layout_dir + ":" + image_.tag, "--target",
           "oci:" + out + ":none", "--platform", "linux/riscv64"},
          1, &output);
  EXPECT_NE(output.find("linux/riscv64"), std::string::npos) << output;
  EXPECT_TRUE(LayoutTag(out, "none").is_null());
}

TEST_F(ConvertTest, CorruptLayerIsNamedAndNothingIsTagged) {
  const std::string layout = Path("corrupt");
  Tool({"cp", "-a", image_.layout_dir, layout});
  LayoutImage image = ReadImage(layout, image_.tag);
  const nlohmann::json& layer = image.manifest["layers"][1];
  const std::string digest = layer["digest"];
  {
    std::fstream f(BlobPath(layout, digest), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(layer["size"].get<uint64_t>() / 2);
    f.put('\x5a').put('\xa5');
  }
  const std::string out = Path("out");
  std::string output;
  Convert({"--source", "oci:" + layout + ":" + image_.tag, "--target", "oci:" + out + ":conv",
           "--work-dir", Path("")},
          1, &output);
  EXPECT_NE(output.find(digest), std::string::npos) << output;
  EXPECT_TRUE(LayoutTag(out, "conv").is_null());
}

TEST_F(ConvertTest, UsageErrors) {
  Image({"convert", "--help"}, 0);
  Image({"convert", "--source", "oci:/nonexistent"}, 2);
  std::string out =
      Image({"convert", "--source", "oci:/nonexistent/layout", "--target", "oci:" + Path("o")}, 1);
  EXPECT_NE(out.find("/nonexistent/layout"), std::string::npos) << out;
}

}  // namespace
}  // namespace tessera::testing
