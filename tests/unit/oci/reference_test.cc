#include "tessera/oci/reference.h"

#include <gtest/gtest.h>

namespace tessera::oci {
namespace {

struct Case {
  const char* text;
  const char* registry;
  const char* repository;
  const char* tag;
  const char* canonical;
};

const std::string kDigest = "sha256:" + std::string(64, 'e');

TEST(ReferenceTest, ParsesTheDockerGrammar) {
  const Case cases[] = {
      {"debian", "docker.io", "library/debian", "latest", "docker.io/library/debian:latest"},
      {"debian:12", "docker.io", "library/debian", "12", "docker.io/library/debian:12"},
      {"user/app", "docker.io", "user/app", "latest", "docker.io/user/app:latest"},
      {"docker.io/debian", "docker.io", "library/debian", "latest",
       "docker.io/library/debian:latest"},
      {"index.docker.io/x/y:1", "docker.io", "x/y", "1", "docker.io/x/y:1"},
      {"127.0.0.1:5000/tessera/debian:v1", "127.0.0.1:5000", "tessera/debian", "v1",
       "127.0.0.1:5000/tessera/debian:v1"},
      {"localhost/a", "localhost", "a", "latest", "localhost/a:latest"},
      {"localhost:5000/a/b/c:t_1.2-x", "localhost:5000", "a/b/c", "t_1.2-x",
       "localhost:5000/a/b/c:t_1.2-x"},
      {"ghcr.io/o/n__m.x-y:v", "ghcr.io", "o/n__m.x-y", "v", "ghcr.io/o/n__m.x-y:v"},
      {"[::1]:5000/a", "[::1]:5000", "a", "latest", "[::1]:5000/a:latest"},
  };
  for (const auto& c : cases) {
    auto r = Reference::Parse(c.text);
    ASSERT_TRUE(r.has_value()) << c.text << ": " << r.error().ToString();
    EXPECT_EQ(r->registry, c.registry) << c.text;
    EXPECT_EQ(r->repository, c.repository) << c.text;
    EXPECT_EQ(r->tag, c.tag) << c.text;
    EXPECT_EQ(r->ToString(), c.canonical) << c.text;
    EXPECT_EQ(r->ManifestRef(), c.tag);
  }
}

TEST(ReferenceTest, DigestsWinOverTags) {
  auto r = Reference::Parse("host:1/a/b:t@" + kDigest);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->tag, "t");
  EXPECT_EQ(r->digest, kDigest);
  EXPECT_EQ(r->ManifestRef(), kDigest);
  auto only = Reference::Parse("a@" + kDigest);
  ASSERT_TRUE(only.has_value());
  EXPECT_EQ(only->tag, "");
  EXPECT_EQ(only->ToString(), "docker.io/library/a@" + kDigest);
}

TEST(ReferenceTest, RejectsBadReferences) {
  for (const std::string& bad : std::vector<std::string>{"",
                                                         "UPPER",
                                                         "a/B",
                                                         "a:",
                                                         "a:-tag",
                                                         "a:" + std::string(129, 't'),
                                                         "a@sha256:abc",
                                                         "a@" + kDigest + "x",
                                                         "host:port/a",
                                                         "a//b",
                                                         "a/",
                                                         "-a",
                                                         "a-",
                                                         "a..b",
                                                         "a b",
                                                         "h:1/",
                                                         "a:t:u",
                                                         "bad_host/a/" + std::string(300, 'x'),
                                                         "a/b@md5:" + std::string(32, '0'),
                                                         "a\n"}) {
    auto r = Reference::Parse(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(ReferenceTest, LengthLimitAppliesToTheNormalizedName) {
  // docker.io/library/ + 237 = 255 characters: the limit; one more is too long, so that
  // Parse(ToString()) agrees with Parse (found by the fuzzer).
  auto fits = Reference::Parse(std::string(237, 'a'));
  ASSERT_TRUE(fits.has_value());
  EXPECT_TRUE(Reference::Parse(fits->ToString()).has_value());
  EXPECT_FALSE(Reference::Parse(std::string(238, 'a')).has_value());
}

TEST(ReferenceTest, Loopback) {
  EXPECT_TRUE(Reference::Parse("127.0.0.1:5000/a")->IsLoopback());
  EXPECT_TRUE(Reference::Parse("localhost/a")->IsLoopback());
  EXPECT_TRUE(Reference::Parse("[::1]:5000/a")->IsLoopback());
  EXPECT_FALSE(Reference::Parse("docker.io/a")->IsLoopback());
  EXPECT_FALSE(Reference::Parse("localhost.example.com/a")->IsLoopback());
  EXPECT_FALSE(Reference::Parse("128.0.0.1/a")->IsLoopback());
}

TEST(ImageLocationTest, LayoutsAndRegistries) {
  auto l = ImageLocation::Parse("oci:/tmp/img:v1");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->kind, ImageLocation::Kind::kLayout);
  EXPECT_EQ(l->layout_dir, "/tmp/img");
  EXPECT_EQ(l->layout_tag, "v1");
  EXPECT_EQ(l->ToString(), "oci:/tmp/img:v1");
  auto d = ImageLocation::Parse("oci:rel/dir");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->layout_dir, "rel/dir");
  EXPECT_EQ(d->layout_tag, "latest");
  auto colon_dir = ImageLocation::Parse("oci:/a:b/c");
  ASSERT_TRUE(colon_dir.has_value());
  EXPECT_EQ(colon_dir->layout_dir, "/a:b/c");
  EXPECT_FALSE(ImageLocation::Parse("oci:").has_value());
  EXPECT_FALSE(ImageLocation::Parse("oci::tag").has_value());
  EXPECT_FALSE(ImageLocation::Parse("oci:/d:bad tag").has_value());
  auto r = ImageLocation::Parse("127.0.0.1:5000/x:y");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ImageLocation::Kind::kRegistry);
  EXPECT_EQ(r->reference.repository, "x");
  EXPECT_EQ(r->ToString(), "127.0.0.1:5000/x:y");
}

}  // namespace
}  // namespace tessera::oci
