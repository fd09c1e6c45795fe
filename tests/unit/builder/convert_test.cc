// ConvertImage between two OCI layouts made here (no root, no network): the converted manifest
// and config agree, the merged bootstrap applies the layers' whiteouts, implicit parents keep
// the lower attributes (the root too), a second run stores nothing new, and a damaged layer is
// named while the target tag stays unset.
#include "tessera/builder/convert.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tar_test_util.h"

#include "tessera/builder/image.h"
#include "tessera/common/process.h"
#include "tessera/oci/image.h"
#include "tessera/oci/layout.h"

namespace tessera::builder {
namespace {

using tartest::MakeHeader;
using tartest::TarWriter;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// 200000 bytes of pseudo-random data (no two 64 KiB chunks alike), different for each seed.
std::string BigData(char seed) {
  std::string data(200000, '\0');
  uint64_t state = static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull + 1;
  for (char& c : data) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(state >> 56);
  }
  return data;
}

class ConvertLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("convert_unit");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    auto layout = oci::OciLayout::OpenOrCreate(Src());
    ASSERT_TRUE(layout) << layout.error().ToString();
    TarWriter lower;
    auto root = MakeHeader("./", '5');
    root.mode = 0750;
    root.mtime = 555;
    lower.AddHeader(root);
    auto usr = MakeHeader("usr/", '5');
    usr.mode = 0700;
    usr.mtime = 777;
    lower.AddHeader(usr);
    lower.AddFile("usr/big", BigData('a'));
    lower.AddFile("usr/gone", BigData('b'));
    TarWriter upper;  // "usr/" itself is not declared: it only parents these entries
    upper.AddFile("usr/.wh.gone", "");
    upper.AddFile("usr/new", BigData('c'));
    std::vector<oci::Descriptor> layers = {Put(**layout, lower.Finish()),
                                           Put(**layout, upper.Finish())};
    std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                         R"("diff_ids":[")" +
                         layers[0].digest + R"(",")" + layers[1].digest + R"("]}})";
    oci::Manifest manifest;
    manifest.media_type = std::string(oci::media::kOciManifest);
    auto config_desc = (*layout)->WriteBlob(Bytes(config), oci::media::kOciConfig);
    ASSERT_TRUE(config_desc);
    manifest.config = *config_desc;
    manifest.layers = layers;
    auto m = (*layout)->WriteBlob(Bytes(oci::EncodeManifest(manifest)), oci::media::kOciManifest);
    ASSERT_TRUE(m);
    ASSERT_TRUE((*layout)->Tag(*m, "v1"));
    layers_ = layers;
  }

  oci::Descriptor Put(oci::OciLayout& layout, const std::string& tar) {
    auto d = layout.WriteBlob(Bytes(tar), oci::media::kOciLayer);
    EXPECT_TRUE(d) << d.error().ToString();
    return d ? *d : oci::Descriptor{};
  }

  std::string Src() const { return dir_->path() + "/src"; }
  std::string Dst() const { return dir_->path() + "/dst"; }

  ConvertOptions Options() const {
    ConvertOptions o;
    o.source = "oci:" + Src() + ":v1";
    o.target = "oci:" + Dst() + ":conv";
    o.work_dir = dir_->path();
    o.layer.chunking.chunk_size = 64 << 10;
    o.layer.threads = 1;
    return o;
  }

  std::unique_ptr<TempDir> dir_;
  std::vector<oci::Descriptor> layers_;
};

TEST_F(ConvertLayoutTest, ConvertsAndMerges) {
  size_t converted = 0;
  ConvertOptions options = Options();
  options.progress = [&](const ConvertProgress& p) {
    if (p.phase == ConvertProgress::Phase::kConverted) ++converted;
  };
  auto summary = ConvertImage(options);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(converted, 2u);
  EXPECT_EQ(summary->layers.size(), 2u);
  EXPECT_EQ(summary->platforms, std::vector<std::string>{"linux/amd64"});

  auto dst = oci::OciLayout::Open(Dst());
  ASSERT_TRUE(dst) << dst.error().ToString();
  auto tagged = (*dst)->Resolve("conv");
  ASSERT_TRUE(tagged) << tagged.error().ToString();
  EXPECT_EQ(tagged->digest, summary->digest);
  auto manifest = oci::ParseManifest(*(*dst)->ReadBlob(tagged->digest));
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  ASSERT_TRUE(oci::IsTesseraManifest(*manifest));
  ASSERT_EQ(manifest->layers.size(), 3u);  // two blobs, then the bootstrap
  auto config = oci::ParseImageConfig(*(*dst)->ReadBlob(manifest->config.digest));
  ASSERT_TRUE(config) << config.error().ToString();
  ASSERT_EQ(config->diff_ids.size(), 3u);
  EXPECT_EQ(config->diff_ids[0], manifest->layers[0].digest);

  auto packed = (*dst)->ReadBlob(manifest->layers.back().digest);
  ASSERT_TRUE(packed);
  auto bootstrap = oci::UnpackBootstrapLayer(*packed);
  ASSERT_TRUE(bootstrap) << bootstrap.error().ToString();
  const std::string path = dir_->path() + "/image.boot";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bootstrap->data()), bootstrap->size());
  auto image = Image::Open(path);
  ASSERT_TRUE(image) << image.error().ToString();
  EXPECT_EQ((*image)->tables().blobs.size(), 2u);
  const erofs::Reader& reader = (*image)->reader();
  EXPECT_TRUE(reader.ResolvePath("usr/big"));
  EXPECT_TRUE(reader.ResolvePath("usr/new"));
  EXPECT_FALSE(reader.ResolvePath("usr/gone"));
  auto usr = reader.GetInode(*reader.ResolvePath("usr"));
  ASSERT_TRUE(usr);
  EXPECT_EQ(usr->mode & 07777, 0700u);  // the lower layer's, not the implicit parent's
  EXPECT_EQ(usr->mtime, 777);
  EXPECT_FALSE(reader.GetXattr(usr->nid, "trusted.overlay.tessera.implicit"));
  auto root = reader.GetInode(reader.root_nid());  // the upper layer has no "./" entry
  ASSERT_TRUE(root);
  EXPECT_EQ(root->mode & 07777, 0750u);
  EXPECT_EQ(root->mtime, 555);

  auto again = ConvertImage(Options());
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->uploaded_bytes, 0u);
  EXPECT_EQ(again->digest, summary->digest);
}

// A second version (the lower layer's files in one new layer, plus one new file) against the
// first as chunk dictionary, into a layout that has none of the first's blobs: only the new
// file's chunks are stored, and the dictionary blobs it uses are copied so it is self-contained.
TEST_F(ConvertLayoutTest, ChunkDictBlobsTravelWithTheImage) {
  ASSERT_TRUE(ConvertImage(Options()));
  auto src = oci::OciLayout::Open(Src());
  ASSERT_TRUE(src);
  TarWriter v2;
  v2.AddFile("usr/big", BigData('a'));
  v2.AddFile("usr/fresh", BigData('z'));
  oci::Descriptor layer = Put(**src, v2.Finish());
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                       R"("diff_ids":[")" +
                       layer.digest + R"("]}})";
  oci::Manifest manifest;
  manifest.media_type = std::string(oci::media::kOciManifest);
  manifest.config = *(*src)->WriteBlob(Bytes(config), oci::media::kOciConfig);
  manifest.layers = {layer};
  auto m = (*src)->WriteBlob(Bytes(oci::EncodeManifest(manifest)), oci::media::kOciManifest);
  ASSERT_TRUE(m);
  ASSERT_TRUE((*src)->Tag(*m, "v2"));

  ConvertOptions options = Options();
  options.source = "oci:" + Src() + ":v2";
  options.target = "oci:" + dir_->path() + "/dst2:v2";
  options.chunk_dict = "oci:" + Dst() + ":conv";
  auto summary = ConvertImage(options);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->dict_dedup, summary->chunks / 2);  // usr/big: all its chunks
  EXPECT_EQ(summary->dict_blobs, 1u);
  auto dst = oci::OciLayout::Open(dir_->path() + "/dst2");
  ASSERT_TRUE(dst);
  auto tagged = (*dst)->Resolve("v2");
  ASSERT_TRUE(tagged);
  auto converted = oci::ParseManifest(*(*dst)->ReadBlob(tagged->digest));
  ASSERT_TRUE(converted);
  ASSERT_EQ(converted->layers.size(), 3u);  // its own blob, the dictionary blob, the bootstrap
  for (const oci::Descriptor& l : converted->layers) {
    EXPECT_TRUE((*dst)->ReadBlob(l.digest, l.size)) << l.digest;
  }
}

TEST_F(ConvertLayoutTest, DamagedLayerIsNamedAndNothingTagged) {
  const std::string blob = Src() + "/blobs/sha256/" + layers_[1].digest.substr(7);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(600);
    f.put('X');
  }
  auto summary = ConvertImage(Options());
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(summary.error().ToString().find(layers_[1].digest), std::string::npos)
      << summary.error().ToString();
  auto dst = oci::OciLayout::Open(Dst());
  ASSERT_TRUE(dst);
  EXPECT_FALSE((*dst)->Resolve("conv"));
}

TEST_F(ConvertLayoutTest, ATesseraImageIsNotConvertedAgain) {
  ASSERT_TRUE(ConvertImage(Options()));
  ConvertOptions options = Options();
  options.source = options.target;
  options.target = "oci:" + dir_->path() + "/again:x";
  auto summary = ConvertImage(options);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::kInvalidArgument) << summary.error().ToString();
}

}  // namespace
}  // namespace tessera::builder
