// CreateLayerFromStream: a layer tar read from a stream gives exactly what CreateLayer gives
// for the same tar in a file, reports progress in stream bytes, and names the stream in errors.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tar_test_util.h"

#include "tessera/builder/create.h"
#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::builder {
namespace {

using tartest::StringStream;
using tartest::TarWriter;

std::string SampleTar() {
  TarWriter tar;
  tar.AddDir("etc");
  tar.AddFile("etc/small", "tiny file, inline in the bootstrap");
  std::string big(300000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 5);
  tar.AddFile("etc/big", big);
  tar.AddFile("etc/copy", big);  // same chunks: deduplicated in the layer
  tar.AddSymlink("etc/link", "big");
  return tar.Finish();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class CreateStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("create_stream");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }
  CreateOptions Options(const std::string& name) {
    CreateOptions o;
    o.bootstrap = dir_->path() + "/" + name + ".boot";
    o.blob_dir = dir_->path();
    o.chunking.chunk_size = 64 << 10;
    o.threads = 1;
    return o;
  }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(CreateStreamTest, SameOutputAsFromAFile) {
  const std::string tar = SampleTar();
  const std::string tar_path = dir_->path() + "/layer.tar";
  std::ofstream(tar_path, std::ios::binary) << tar;

  auto from_file = CreateLayer(tar_path, Options("file"));
  ASSERT_TRUE(from_file) << from_file.error().ToString();

  StringStream stream(tar, 1000);  // short reads
  uint64_t last_done = 0, last_total = 0;
  CreateOptions options = Options("stream");
  options.progress = [&](uint64_t done, uint64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
  };
  auto from_stream = CreateLayerFromStream(stream, "layer.tar", tar.size(), options);
  ASSERT_TRUE(from_stream) << from_stream.error().ToString();

  EXPECT_EQ(from_stream->blob_id, from_file->blob_id);
  EXPECT_FALSE(from_stream->blob_id.empty());
  EXPECT_EQ(from_stream->regular_files, 3u);
  EXPECT_EQ(from_stream->bytes_in, from_file->bytes_in);
  EXPECT_GT(from_stream->layer_dedup, 0u);
  EXPECT_EQ(ReadAll(options.bootstrap), ReadAll(dir_->path() + "/file.boot"));
  EXPECT_EQ(last_total, tar.size());
  EXPECT_GT(last_done, tar.size() / 2);
}

TEST_F(CreateStreamTest, StreamErrorNamesTheStream) {
  const std::string tar = SampleTar();
  StringStream stream(tar, 4096, /*fail_at=*/100000);
  auto created = CreateLayerFromStream(stream, "sha256:feedface", tar.size(), Options("bad"));
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().ToString().find("sha256:feedface"), std::string::npos)
      << created.error().ToString();
  EXPECT_NE(created.error().ToString().find("injected failure"), std::string::npos)
      << created.error().ToString();
}

TEST_F(CreateStreamTest, TruncatedArchiveIsCorrupt) {
  const std::string tar = SampleTar();
  StringStream stream(tar.substr(0, 2048 + 700));
  auto created = CreateLayerFromStream(stream, "cut.tar", 0, Options("cut"));
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::kCorrupt) << created.error().ToString();
}

}  // namespace
}  // namespace tessera::builder
