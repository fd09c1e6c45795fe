// `tessera-image mkfs` as a user runs it: exit codes, summary and JSON output, the temp-file
// rename, determinism, and an image that fsck.erofs accepts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "support/test_env.h"
#include <nlohmann/json.hpp>

#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/erofs/format.h"

namespace tessera::builder {
namespace {

class MkfsCmdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(testing::BinPath("tessera-image").c_str(), X_OK) != 0) {
      GTEST_SKIP() << testing::BinPath("tessera-image") << " not built";
    }
    auto dir = TempDir::Create("mkfs-cmd");
    ASSERT_TRUE(dir.has_value()) << dir.error().ToString();
    dir_.emplace(std::move(dir).value());
    src_ = dir_->path() + "/src";
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((src_ + "/sub").c_str(), 0700), 0);
    const std::string text = "some file content\n";
    ASSERT_TRUE(WriteFile(src_ + "/sub/a.txt",
                          {reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
    ASSERT_TRUE(WriteFile(src_ + "/big", std::vector<uint8_t>(100000, 7)));
    ASSERT_EQ(::symlink("sub/a.txt", (src_ + "/link").c_str()), 0);
  }

  testing::CommandResult Mkfs(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::BinPath("tessera-image"), "mkfs"});
    auto r = testing::RunCapture(args);
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? *r : testing::CommandResult{};
  }

  bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

  std::optional<TempDir> dir_;
  std::string src_;
};

TEST_F(MkfsCmdTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Mkfs({}).exit_code, 2);
  EXPECT_EQ(Mkfs({src_}).exit_code, 2);
  EXPECT_EQ(Mkfs({"--bogus", src_, dir_->path() + "/x"}).exit_code, 2);
  EXPECT_EQ(Mkfs({"--uuid", "not-a-uuid", src_, dir_->path() + "/x"}).exit_code, 2);
  EXPECT_EQ(Mkfs({"-T", "soon", src_, dir_->path() + "/x"}).exit_code, 2);
  EXPECT_EQ(Mkfs({"--label", std::string(16, 'l'), src_, dir_->path() + "/x"}).exit_code, 2);
  EXPECT_EQ(Mkfs({"--timestamp"}).exit_code, 2);
  const auto help = Mkfs({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("usage: tessera-image mkfs"), std::string::npos) << help.output;
  EXPECT_FALSE(Exists(dir_->path() + "/x"));
}

TEST_F(MkfsCmdTest, FailureExitsOneAndLeavesNoFiles) {
  const std::string image = dir_->path() + "/out.erofs";
  const auto r = Mkfs({dir_->path() + "/missing", image});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("missing"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(image));
  EXPECT_FALSE(Exists(image + ".tmp"));
  const auto no_dir = Mkfs({src_, dir_->path() + "/nodir/out.erofs"});
  EXPECT_EQ(no_dir.exit_code, 1);
}

TEST_F(MkfsCmdTest, JsonSummaryAndSuperblock) {
  const std::string image = dir_->path() + "/out.erofs";
  std::vector<std::string> argv = {testing::BinPath("tessera-image"),
                                   "mkfs",
                                   "--json",
                                   "-T",
                                   "1600000000",
                                   "--uuid",
                                   "01234567-89ab-cdef-0123-456789abcdef",
                                   "--label=docs",
                                   src_,
                                   image};
  auto r = RunCommand(argv);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->exit_code, 0) << r->out;
  const auto j = nlohmann::json::parse(r->out);
  EXPECT_EQ(j["inodes"], 5);  // root, sub, sub/a.txt, big, link
  EXPECT_EQ(j["image"], image);
  EXPECT_EQ(j["data_bytes"], 100000 + 18);
  EXPECT_FALSE(Exists(image + ".tmp"));
  auto bytes = ReadFile(image);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(j["size"], bytes->size());
  erofs::SuperBlock sb{};
  std::memcpy(&sb, bytes->data() + erofs::kSuperblockOffset, sizeof(sb));
  EXPECT_EQ(sb.magic, erofs::kMagic);
  EXPECT_EQ(sb.build_time, 1600000000u);
  EXPECT_STREQ(reinterpret_cast<const char*>(sb.volume_name), "docs");
  EXPECT_EQ(sb.uuid[0], 0x01);
  EXPECT_EQ(sb.uuid[15], 0xef);
  if (!testing::MissingProgram("fsck.erofs")) {
    const std::vector<std::string> fsck = {"fsck.erofs", image};
    auto f = testing::RunCapture(fsck);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->exit_code, 0) << testing::Describe(fsck, *f);
  }
}

TEST_F(MkfsCmdTest, TextSummaryAndDeterminism) {
  const std::vector<std::string> fixed = {"-T", "1700000000", "--uuid",
                                          "0123456789abcdef0123456789abcdef"};
  auto args = [&](const std::string& image) {
    std::vector<std::string> a = fixed;
    a.push_back(src_);
    a.push_back(image);
    return a;
  };
  const auto r1 = Mkfs(args(dir_->path() + "/one.erofs"));
  ASSERT_EQ(r1.exit_code, 0) << r1.output;
  EXPECT_NE(r1.output.find("5 inodes"), std::string::npos) << r1.output;
  ASSERT_EQ(Mkfs(args(dir_->path() + "/two.erofs")).exit_code, 0);
  auto one = ReadFile(dir_->path() + "/one.erofs");
  auto two = ReadFile(dir_->path() + "/two.erofs");
  ASSERT_TRUE(one.has_value() && two.has_value());
  EXPECT_TRUE(*one == *two);
  // Overwrites an existing image in place (through the temp file).
  ASSERT_EQ(Mkfs(args(dir_->path() + "/one.erofs")).exit_code, 0);
}

}  // namespace
}  // namespace tessera::builder
