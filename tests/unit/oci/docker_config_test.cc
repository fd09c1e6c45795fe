#include <gtest/gtest.h>

#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/oci/registry.h"

namespace tessera::oci {
namespace {

class DockerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("docker-config-test");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
  }
  std::string Write(const std::string& text) {
    std::string path = dir_->path() + "/config.json";
    EXPECT_TRUE(WriteFile(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
    return path;
  }
  std::optional<TempDir> dir_;
};

TEST_F(DockerConfigTest, FindsEntriesByHost) {
  // "user:pa:ss" base64; a password may contain ':'.
  std::string path = Write(R"({"auths":{
      "https://index.docker.io/v1/":{"auth":"aHViOmh1YnBhc3M="},
      "127.0.0.1:5000":{"auth":"dXNlcjpwYTpzcw=="},
      "http://reg.example.com":{"username":"u2","password":"p2"},
      "tok.example.com":{"identitytoken":"refresh-me"}}})");
  auto local = LoadDockerCredentials("127.0.0.1:5000", path);
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(local->username, "user");
  EXPECT_EQ(local->password, "pa:ss");
  auto hub = LoadDockerCredentials("docker.io", path);
  ASSERT_TRUE(hub.has_value());
  EXPECT_EQ(hub->username, "hub");
  auto plain = LoadDockerCredentials("reg.example.com", path);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->username, "u2");
  EXPECT_EQ(plain->password, "p2");
  auto tok = LoadDockerCredentials("tok.example.com", path);
  ASSERT_TRUE(tok.has_value());
  EXPECT_EQ(tok->identity_token, "refresh-me");
  EXPECT_FALSE(tok->empty());
  auto none = LoadDockerCredentials("other:1", path);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST_F(DockerConfigTest, MissingFileIsEmptyAndBrokenFileIsCorruptWithoutSecrets) {
  auto missing = LoadDockerCredentials("h", dir_->path() + "/absent.json");
  ASSERT_TRUE(missing.has_value());
  EXPECT_TRUE(missing->empty());
  EXPECT_EQ(LoadDockerCredentials("h", Write("{not json")).error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(LoadDockerCredentials("h", Write(R"({"auths":[]})")).error().code, ErrorCode::kCorrupt);
  // "c2VjcmV0LW5vLWNvbG9u" is base64 of "secret-no-colon".
  auto bad =
      LoadDockerCredentials("h", Write(R"({"auths":{"h":{"auth":"c2VjcmV0LW5vLWNvbG9u"}}})"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(bad.error().ToString().find("secret"), std::string::npos) << bad.error().ToString();
  EXPECT_EQ(bad.error().ToString().find("c2VjcmV0"), std::string::npos);
  EXPECT_FALSE(LoadDockerCredentials("h", Write(R"({"auths":{"h":{"auth":"!!"}}})")).has_value());
}

}  // namespace
}  // namespace tessera::oci
