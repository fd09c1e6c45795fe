// Inline xattr encoding (§6), checked at the byte level through WriteImage.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

#include "unit/erofs/writer_test_util.h"

#include "tessera/erofs/writer.h"

namespace tessera::erofs {
namespace {

using testutil::DecodeInode;
using testutil::FileNode;
using testutil::InodeView;
using testutil::LookupNid;
using testutil::WriteToMemory;

std::vector<uint8_t> XattrArea(const std::vector<uint8_t>& b, const InodeView& v) {
  return {b.begin() + static_cast<long>(v.offset + v.isize),
          b.begin() + static_cast<long>(v.body_end())};
}

TEST(XattrEncodeTest, SpecExampleSecurityTest) {
  Tree tree;
  Node f = FileNode("");
  f.xattrs = {{"security.test", "abc"}};
  ASSERT_TRUE(tree.Link(0, "f", tree.AddNode(f)));
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const InodeView v = DecodeInode(image->bytes, LookupNid(image->bytes, 128, "f"));
  EXPECT_EQ(v.icount, 4);
  const std::vector<uint8_t> want = {0, 0, 0, 0, 0,   0,   0,   0,   0,   0,   0,   0,  // header
                                     4, 6, 3, 0, 't', 'e', 's', 't', 'a', 'b', 'c', 0};
  EXPECT_EQ(XattrArea(image->bytes, v), want);
}

TEST(XattrEncodeTest, AllNamespacesSortedAndPadded) {
  Tree tree;
  Node& root = tree.node(tree.root());
  root.xattrs = {
      {"user.zeta", ""},
      {"trusted.overlay.opaque", "y"},
      {"system.posix_acl_default", std::string("\x02\x00\x00\x00", 4)},
      {"user.alpha", "12345"},
      {"system.posix_acl_access", std::string("\x02\x00\x00\x00", 4)},
      {"security.selinux", "ctx"},
  };
  auto image = WriteToMemory(tree);
  ASSERT_TRUE(image.has_value()) << image.error().ToString();
  const InodeView v = DecodeInode(image->bytes, 128);
  const std::vector<uint8_t> area = XattrArea(image->bytes, v);
  // Order: by name index (user 1, acl access 2, acl default 3, trusted 4, security 6), then
  // by suffix.
  std::vector<std::pair<int, std::string>> seen;
  size_t pos = 12;
  while (pos < area.size()) {
    const uint8_t len = area[pos], index = area[pos + 1];
    const uint16_t vsize = static_cast<uint16_t>(area[pos + 2] | area[pos + 3] << 8);
    seen.emplace_back(index, std::string(area.begin() + static_cast<long>(pos) + 4,
                                         area.begin() + static_cast<long>(pos) + 4 + len));
    pos += (4 + len + vsize + 3) / 4 * 4;
  }
  EXPECT_EQ(pos, area.size());
  const std::vector<std::pair<int, std::string>> want = {
      {1, "alpha"}, {1, "zeta"}, {2, ""}, {3, ""}, {4, "overlay.opaque"}, {6, "selinux"}};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(v.icount, 1 + (area.size() - 12) / 4);
}

TEST(XattrEncodeTest, UnsupportedNamespaceNamesThePath) {
  Tree tree;
  const NodeId d = tree.AddNode(testutil::DirNode());
  ASSERT_TRUE(tree.Link(0, "dir", d));
  Node f = FileNode("x");
  f.xattrs = {{"system.nfs4_acl", "v"}};
  ASSERT_TRUE(tree.Link(d, "file", tree.AddNode(f)));
  auto image = WriteToMemory(tree);
  ASSERT_FALSE(image.has_value());
  EXPECT_EQ(image.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(image.error().context.find("/dir/file"), std::string::npos) << image.error().ToString();
  EXPECT_NE(image.error().context.find("system.nfs4_acl"), std::string::npos);
}

TEST(XattrEncodeTest, RejectsDuplicatesEmptySuffixAndHugeValues) {
  for (const auto& xattrs : std::vector<std::vector<Xattr>>{
           {{"user.a", "1"}, {"user.a", "2"}},
           {{"user.", "1"}},
           {{"lustre.x", "1"}},
           {{"user.v", std::string(65536, 'x')}},
           {{"user." + std::string(256, 'n'), "1"}},
       }) {
    Tree tree;
    tree.node(tree.root()).xattrs = xattrs;
    auto image = WriteToMemory(tree);
    EXPECT_FALSE(image.has_value()) << xattrs[0].name;
  }
}

TEST(XattrEncodeTest, IsStorableXattrName) {
  EXPECT_TRUE(IsStorableXattrName("user.x"));
  EXPECT_TRUE(IsStorableXattrName("trusted.overlay.opaque"));
  EXPECT_TRUE(IsStorableXattrName("security.capability"));
  EXPECT_TRUE(IsStorableXattrName("system.posix_acl_access"));
  EXPECT_TRUE(IsStorableXattrName("system.posix_acl_default"));
  EXPECT_FALSE(IsStorableXattrName("system.posix_acl_accessx"));
  EXPECT_FALSE(IsStorableXattrName("user."));
  EXPECT_FALSE(IsStorableXattrName("system.nfs4_acl"));
  EXPECT_FALSE(IsStorableXattrName("btrfs.compression"));
}

}  // namespace
}  // namespace tessera::erofs
