// SplitTarPath: tar entry names -> components that cannot leave the root.
#include "tar/tar_path.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera::builder::internal {
namespace {

using Parts = std::vector<std::string>;

Parts Split(const std::string& path) {
  auto parts = SplitTarPath(path);
  EXPECT_TRUE(parts.has_value()) << path << ": " << parts.error().ToString();
  return parts.has_value() ? *parts : Parts{"<error>"};
}

TEST(TarPathTest, NormalisesSlashesAndDots) {
  EXPECT_EQ(Split("a/b/c"), (Parts{"a", "b", "c"}));
  EXPECT_EQ(Split("./a/b/"), (Parts{"a", "b"}));
  EXPECT_EQ(Split("/abs//x/./y"), (Parts{"abs", "x", "y"}));
  EXPECT_EQ(Split("///"), Parts{});
  EXPECT_EQ(Split("./"), Parts{});
  EXPECT_EQ(Split("."), Parts{});
  EXPECT_EQ(Split(""), Parts{});
  EXPECT_EQ(Split("..."), Parts{"..."});
  EXPECT_EQ(Split(".wh..wh..opq"), Parts{".wh..wh..opq"});
  EXPECT_EQ(Split("a/..b/c.."), (Parts{"a", "..b", "c.."}));
}

TEST(TarPathTest, RejectsDotDot) {
  for (const std::string& bad :
       std::vector<std::string>{"..", "../x", "a/..", "a/../b", "./../../etc", "/..", "a//../"}) {
    auto parts = SplitTarPath(bad);
    ASSERT_FALSE(parts.has_value()) << bad;
    EXPECT_EQ(parts.error().code, ErrorCode::kCorrupt);
    EXPECT_NE(parts.error().context.find("'" + bad + "'"), std::string::npos);
  }
}

TEST(TarPathTest, ComponentLengthLimit) {
  EXPECT_EQ(Split(std::string(255, 'x') + "/y").size(), 2u);
  auto parts = SplitTarPath("d/" + std::string(256, 'x'));
  ASSERT_FALSE(parts.has_value());
  EXPECT_EQ(parts.error().code, ErrorCode::kUnsupported);
}

TEST(TarPathTest, Join) {
  EXPECT_EQ(JoinTarPath({"a", "b", "c"}), "a/b/c");
  EXPECT_EQ(JoinTarPath({"a", "b", "c"}, 2), "a/b");
  EXPECT_EQ(JoinTarPath({}), "");
}

}  // namespace
}  // namespace tessera::builder::internal
