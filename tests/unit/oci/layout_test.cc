#include "tessera/oci/layout.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/oci/store.h"

namespace tessera::oci {
namespace {

std::vector<uint8_t> V(const std::string& s) { return {s.begin(), s.end()}; }

class LayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("oci-layout-test");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
    path_ = dir_->path() + "/layout";
  }
  std::optional<TempDir> dir_;
  std::string path_;
};

TEST_F(LayoutTest, RoundTripsBlobsAndTags) {
  auto layout = OciLayout::OpenOrCreate(path_);
  ASSERT_TRUE(layout.has_value()) << layout.error().ToString();
  auto data = V("layer bytes");
  auto d = (*layout)->WriteBlob(data, media::kOciLayer);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->digest, DigestOf(data));
  EXPECT_TRUE((*layout)->HasBlob(d->digest));
  EXPECT_TRUE(std::filesystem::exists(path_ + "/blobs/sha256/" + d->digest.substr(7)));
  auto back = (*layout)->ReadBlob(d->digest, data.size());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, data);

  Descriptor manifest{std::string(media::kOciManifest), d->digest, d->size, {}, {}, {}};
  ASSERT_TRUE((*layout)->Tag(manifest, "v1").has_value());
  ASSERT_TRUE((*layout)->Tag(manifest, "v2").has_value());
  ASSERT_TRUE((*layout)->Tag(manifest, "v1").has_value());  // replaces, not duplicates
  auto reopened = OciLayout::Open(path_);
  ASSERT_TRUE(reopened.has_value());
  auto index = (*reopened)->ReadIndex();
  ASSERT_TRUE(index.has_value());
  EXPECT_EQ(index->manifests.size(), 2u);
  auto resolved = (*reopened)->Resolve("v1");
  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(resolved->digest, d->digest);
  auto missing = (*reopened)->Resolve("nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  // No temporary files are left behind.
  for (const auto& e : std::filesystem::directory_iterator(path_ + "/blobs/sha256")) {
    EXPECT_FALSE(e.path().filename().string().starts_with(".tmp")) << e.path();
  }
}

TEST_F(LayoutTest, DetectsCorruptedBlobs) {
  auto layout = OciLayout::OpenOrCreate(path_);
  ASSERT_TRUE(layout.has_value());
  auto data = V("original content");
  auto d = (*layout)->WriteBlob(data, media::kOciLayer);
  ASSERT_TRUE(d.has_value());
  ASSERT_TRUE(WriteFile((*layout)->BlobPath(d->digest), V("original c0ntent")).has_value());
  auto flipped = (*layout)->ReadBlob(d->digest);
  ASSERT_FALSE(flipped.has_value());
  EXPECT_EQ(flipped.error().code, ErrorCode::kCorrupt);
  ASSERT_TRUE(WriteFile((*layout)->BlobPath(d->digest), data).has_value());
  auto wrong_size = (*layout)->ReadBlob(d->digest, data.size() + 1);
  ASSERT_FALSE(wrong_size.has_value());
  EXPECT_EQ(wrong_size.error().code, ErrorCode::kCorrupt);
  auto bad_digest = (*layout)->ReadBlob("sha256:../../etc/passwd");
  EXPECT_FALSE(bad_digest.has_value());
  EXPECT_FALSE((*layout)->HasBlob("sha256:../../etc/passwd"));
}

TEST_F(LayoutTest, ImportsFilesAndRejectsBrokenLayouts) {
  auto layout = OciLayout::OpenOrCreate(path_);
  ASSERT_TRUE(layout.has_value());
  std::string src = dir_->path() + "/src.bin";
  std::vector<uint8_t> data(3 << 20, 7);
  ASSERT_TRUE(WriteFile(src, data).has_value());
  auto d = (*layout)->ImportBlobFile(src, media::kOciLayer);
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  EXPECT_EQ(d->digest, DigestOf(data));
  EXPECT_EQ(d->size, data.size());
  EXPECT_TRUE((*layout)->ReadBlob(d->digest).has_value());

  ASSERT_TRUE(
      WriteFile(path_ + "/index.json", V(R"({"schemaVersion":2,"manifests":3})")).has_value());
  auto broken = OciLayout::Open(path_);
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code, ErrorCode::kCorrupt);
  ASSERT_TRUE(WriteFile(path_ + "/oci-layout", V(R"({"imageLayoutVersion":"2.0.0"})")).has_value());
  EXPECT_EQ(OciLayout::Open(path_).error().code, ErrorCode::kUnsupported);
  EXPECT_FALSE(OciLayout::Open(dir_->path() + "/absent").has_value());
}

TEST_F(LayoutTest, ImageStoreOverALayout) {
  auto loc = ImageLocation::Parse("oci:" + path_ + ":t1");
  ASSERT_TRUE(loc.has_value());
  EXPECT_FALSE(OpenImageStore(*loc, {}, /*create=*/false).has_value());
  auto store = OpenImageStore(*loc, {}, /*create=*/true);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  EXPECT_EQ((*store)->Describe(), "oci:" + path_ + ":t1");
  auto blob = V("some layer");
  Descriptor bd{std::string(media::kOciLayer), DigestOf(blob), blob.size(), {}, {}, {}};
  auto put = (*store)->PutBlob(bd, MemorySource(blob));
  ASSERT_TRUE(put.has_value());
  EXPECT_TRUE(*put);
  EXPECT_FALSE(*(*store)->PutBlob(bd, MemorySource(blob)));
  Descriptor lying = bd;
  lying.digest = DigestOf(V("other"));
  EXPECT_FALSE((*store)->PutBlob(lying, MemorySource(blob)).has_value());
  auto stream = (*store)->OpenBlob(bd);
  ASSERT_TRUE(stream.has_value());
  std::vector<uint8_t> buf(100);
  auto n = (*stream)->Read(buf);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, blob.size());
  EXPECT_EQ(*(*stream)->Read(buf), 0u);
  // Reading past the end repeats the (verified) end; an empty read is not the end.
  EXPECT_EQ(*(*stream)->Read(buf), 0u);
  auto again = (*store)->OpenBlob(bd);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*(*again)->Read(std::span<uint8_t>()), 0u);
  EXPECT_EQ(*(*again)->Read(buf), blob.size());

  std::string m = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})";
  auto mb = V(m);
  Descriptor md{std::string(media::kOciManifest), DigestOf(mb), mb.size(), {}, {}, {}};
  ASSERT_TRUE((*store)->Tag(md, mb).has_value());
  auto doc = (*store)->Resolve();
  ASSERT_TRUE(doc.has_value()) << doc.error().ToString();
  EXPECT_EQ(doc->bytes, mb);
  EXPECT_EQ(doc->digest, md.digest);
}

}  // namespace
}  // namespace tessera::oci
