#include "registry/auth.h"

#include <gtest/gtest.h>

namespace tessera::oci::internal {
namespace {

TEST(ParseChallengesTest, BearerWithQuotedParams) {
  auto c = ParseChallenges(
      R"(Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].Param("realm"), "https://auth.example.com/token");
  EXPECT_EQ(c[0].Param("service"), "registry.example.com");
  EXPECT_EQ(c[0].Param("scope"), "repository:a/b:pull,push");
}

TEST(ParseChallengesTest, SeveralChallengesAndOddSpacing) {
  auto c = ParseChallenges(
      R"(  Basic realm="Registry Realm" ,  BEARER  Realm = "http://t/x?a=1" , error="insufficient_scope")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].Param("realm"), "Registry Realm");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].Param("realm"), "http://t/x?a=1");
  EXPECT_EQ(c[1].Param("error"), "insufficient_scope");
}

TEST(ParseChallengesTest, EscapesTokensAndGarbage) {
  auto c = ParseChallenges(R"(Bearer realm="a\"b\\c",service=plain)");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].Param("realm"), "a\"b\\c");
  EXPECT_EQ(c[0].Param("service"), "plain");
  auto token68 = ParseChallenges("Negotiate abc==, Basic realm=x");
  ASSERT_EQ(token68.size(), 2u);
  EXPECT_EQ(token68[1].Param("realm"), "x");
  EXPECT_TRUE(ParseChallenges("").empty());
  auto unterminated = ParseChallenges(R"(Bearer realm="never closed)");
  ASSERT_EQ(unterminated.size(), 1u);
  EXPECT_TRUE(unterminated[0].Param("realm").empty());
  for (const std::string& junk :
       std::vector<std::string>{"=", "===,,,", "\"", "Bearer ,,,= =", std::string(1000, ',')}) {
    (void)ParseChallenges(junk);  // must not crash or loop
  }
}

TEST(Base64Test, RoundTripsAndRejectsJunk) {
  std::string s = "tessera:s3cret-pass";
  std::vector<uint8_t> in(s.begin(), s.end());
  EXPECT_EQ(Base64Encode(in), "dGVzc2VyYTpzM2NyZXQtcGFzcw==");
  auto back = Base64Decode("dGVzc2VyYTpzM2NyZXQtcGFzcw==");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, in);
  for (size_t n = 0; n < 8; ++n) {
    std::vector<uint8_t> v(in.begin(), in.begin() + n);
    EXPECT_EQ(*Base64Decode(Base64Encode(v)), v) << n;
  }
  EXPECT_FALSE(Base64Decode("ab!d").has_value());
  EXPECT_FALSE(Base64Decode("a").has_value());
}

TEST(TokenResponseTest, ParsesAndBoundsLifetime) {
  auto now = std::chrono::steady_clock::now();
  std::string body = R"({"token":"abc","expires_in":100})";
  auto t = ParseTokenResponse({reinterpret_cast<const uint8_t*>(body.data()), body.size()}, now);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->value, "abc");
  EXPECT_GT(t->expires, now + std::chrono::seconds(80));
  EXPECT_LT(t->expires, now + std::chrono::seconds(100));
  std::string access = R"({"access_token":"xyz"})";
  auto a =
      ParseTokenResponse({reinterpret_cast<const uint8_t*>(access.data()), access.size()}, now);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->value, "xyz");
  for (const std::string& bad : std::vector<std::string>{
           "{}", R"({"token":5})", R"({"token":"a","expires_in":"x"})", "nope"}) {
    EXPECT_FALSE(ParseTokenResponse({reinterpret_cast<const uint8_t*>(bad.data()), bad.size()}, now)
                     .has_value())
        << bad;
  }
}

TEST(TokenCacheTest, ExpiresAndDrops) {
  TokenCache cache;
  auto now = std::chrono::steady_clock::now();
  cache.Put("a", Token{"t1", now + std::chrono::hours(1)});
  cache.Put("old", Token{"t2", now - std::chrono::seconds(1)});
  EXPECT_EQ(cache.Get("a"), "t1");
  EXPECT_FALSE(cache.Get("old").has_value());
  cache.Drop("a");
  EXPECT_FALSE(cache.Get("a").has_value());
}

}  // namespace
}  // namespace tessera::oci::internal
