// `tessera-image dump` as a user runs it: exit codes, text and JSON output, --device.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/common/digest.h"
#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::builder {
namespace {

constexpr const char* kNydusBoot = TESSERA_SHARED_DIR "/testdata/nydus/rafs-v6-2.2.boot";

std::string ImageTool() {
  const char* dir = std::getenv("TESSERA_BIN_DIR");
  return std::string(dir != nullptr ? dir : TESSERA_BIN_DIR) + "/tessera-image";
}

class DumpCmdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(ImageTool().c_str(), X_OK) != 0) GTEST_SKIP() << ImageTool() << " not built";
  }

  static RunOutput Dump(std::vector<std::string> args) {
    args.insert(args.begin(), {ImageTool(), "dump"});
    auto out = RunCommand(args);
    EXPECT_TRUE(out.has_value());
    return out.has_value() ? *out : RunOutput{};
  }
};

TEST_F(DumpCmdTest, UsageAndExitCodes) {
  EXPECT_EQ(Dump({}).exit_code, 2);
  EXPECT_EQ(Dump({"--no-such-option", "x"}).exit_code, 2);
  EXPECT_EQ(Dump({"a", "b", "c"}).exit_code, 2);
  EXPECT_EQ(Dump({"--device"}).exit_code, 2);
  const RunOutput help = Dump({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: tessera-image dump"), std::string::npos);
  EXPECT_EQ(Dump({"/nonexistent.erofs"}).exit_code, 1);
}

TEST_F(DumpCmdTest, CorruptImageFails) {
  auto dir = TempDir::Create("tessera-dump-test");
  ASSERT_TRUE(dir.has_value());
  const std::string path = dir->path() + "/zeros.img";
  ASSERT_TRUE(WriteFile(path, std::vector<uint8_t>(8192, 0)).has_value());
  EXPECT_EQ(Dump({path}).exit_code, 1);
  EXPECT_EQ(Dump({"--json", path}).exit_code, 1);
}

TEST_F(DumpCmdTest, NydusBootstrapText) {
  if (access(kNydusBoot, R_OK) != 0) GTEST_SKIP() << kNydusBoot << " missing";
  const RunOutput out = Dump({kNydusBoot});
  ASSERT_EQ(out.exit_code, 0);
  for (const char* needle :
       {"root nid:        128", "chunked_file device_table", "rafs_v6", "/lib.rs", "/sync_io.rs",
        "chunk_based", "be7d77eeb719f70884758d1aa800ed0fb09d701aaec469964e9d54325f0d5fef",
        "mapped_blkaddr 512"}) {
    EXPECT_NE(out.out.find(needle), std::string::npos) << needle << "\n" << out.out;
  }
  // One path, resolved through lookups: its chunk map, and why its data is unreadable.
  const RunOutput one = Dump({kNydusBoot, "/sync_io.rs"});
  ASSERT_EQ(one.exit_code, 0);
  EXPECT_NE(one.out.find("chunk 0: device 1"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("was not provided"), std::string::npos) << one.out;
  EXPECT_EQ(Dump({kNydusBoot, "/missing"}).exit_code, 1);
  // The device count must match the table.
  EXPECT_EQ(Dump({"--device", kNydusBoot, "--device", kNydusBoot, kNydusBoot}).exit_code, 1);
}

TEST_F(DumpCmdTest, NydusBootstrapJson) {
  if (access(kNydusBoot, R_OK) != 0) GTEST_SKIP() << kNydusBoot << " missing";
  const RunOutput out = Dump({"--json", kNydusBoot});
  ASSERT_EQ(out.exit_code, 0);
  const auto doc = nlohmann::json::parse(out.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(doc.is_discarded()) << out.out;
  EXPECT_EQ(doc["superblock"]["root_nid"], 128);
  EXPECT_EQ(doc["superblock"]["features_incompat"],
            nlohmann::json::array({"chunked_file", "device_table"}));
  ASSERT_EQ(doc["devices"].size(), 1u);
  ASSERT_EQ(doc["entries"].size(), 3u);
  EXPECT_EQ(doc["entries"][0]["path"], "/");
  EXPECT_EQ(doc["entries"][1]["path"], "/lib.rs");
  EXPECT_EQ(doc["entries"][1]["size"], 16931);
  EXPECT_EQ(doc["entries"][1]["chunks"]["devices"], nlohmann::json::array({1}));
}

TEST_F(DumpCmdTest, ChunkedImageWithDevice) {
  if (access("/usr/bin/mkfs.erofs", X_OK) != 0) GTEST_SKIP() << "mkfs.erofs missing";
  auto dir = TempDir::Create("tessera-dump-test");
  ASSERT_TRUE(dir.has_value());
  const std::string src = dir->path() + "/src";
  ASSERT_EQ(mkdir(src.c_str(), 0755), 0);
  std::vector<uint8_t> data(50000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 31 + i / 7);
  ASSERT_TRUE(WriteFile(src + "/data", data).has_value());
  const std::string image = dir->path() + "/img.erofs";
  const std::string blob = dir->path() + "/blob.img";
  auto mkfs = RunCommand(
      {"/usr/bin/mkfs.erofs", "--quiet", "--chunksize=4096", "--blobdev=" + blob, image, src});
  ASSERT_TRUE(mkfs.has_value());
  ASSERT_EQ(mkfs->exit_code, 0);
  const RunOutput out = Dump({"--json", "--device", blob, image, "/data"});
  ASSERT_EQ(out.exit_code, 0);
  const auto doc = nlohmann::json::parse(out.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  const auto& entry = doc["entries"][0];
  EXPECT_EQ(entry["chunks"]["count"], 13);
  EXPECT_EQ(entry["chunks"]["map"].size(), 13u);
  EXPECT_EQ(entry["sha256"], ToHex(Sha256Of(data)));
  // mkfs dedups repeated chunks (this pattern repeats), so the blob is smaller than the file.
  EXPECT_LE(doc["devices"][0]["file_size"].get<uint64_t>(), 13u * 4096);
}

}  // namespace
}  // namespace tessera::builder
