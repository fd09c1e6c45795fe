#include "tessera/erofs/tree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

namespace tessera::erofs {
namespace {

Node Dir() { return Node{}; }
Node File() {
  Node n;
  n.mode = S_IFREG | 0644;
  return n;
}

TEST(TreeTest, StartsWithRootDirectory) {
  Tree tree;
  EXPECT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree.root(), 0u);
  EXPECT_TRUE(tree.node(tree.root()).is_dir());
  EXPECT_EQ(tree.node(0).mode, S_IFDIR | 0755u);
  EXPECT_EQ(tree.Find(""), std::optional<NodeId>(0));
  EXPECT_EQ(tree.Find("/"), std::optional<NodeId>(0));
}

TEST(TreeTest, LinkFindAndHardLinks) {
  Tree tree;
  const NodeId a = tree.AddNode(Dir());
  const NodeId f = tree.AddNode(File());
  ASSERT_TRUE(tree.Link(0, "a", a));
  ASSERT_TRUE(tree.Link(a, "f", f));
  ASSERT_TRUE(tree.Link(0, "g", f));  // hard link: allowed for non-directories
  EXPECT_EQ(tree.Find("a/f"), std::optional<NodeId>(f));
  EXPECT_EQ(tree.Find("/a/f"), std::optional<NodeId>(f));
  EXPECT_EQ(tree.Find("a//f"), std::optional<NodeId>(f));
  EXPECT_EQ(tree.Find("a/../g"), std::optional<NodeId>(f));
  EXPECT_EQ(tree.Find("g"), std::optional<NodeId>(f));
  EXPECT_EQ(tree.Find("a/missing"), std::nullopt);
  EXPECT_EQ(tree.Find("g/x"), std::nullopt);  // through a non-directory
  EXPECT_EQ(tree.node(0).entries.size(), 2u);
}

TEST(TreeTest, RejectsBadNamesAndTargets) {
  Tree tree;
  const NodeId f = tree.AddNode(File());
  for (const std::string& name : std::vector<std::string>{
           "", ".", "..", "a/b", std::string(256, 'x'), std::string("a\0b", 3)}) {
    EXPECT_FALSE(tree.Link(0, name, f)) << name;
  }
  EXPECT_TRUE(tree.Link(0, std::string(255, 'x'), f));
  EXPECT_FALSE(tree.Link(f, "x", f));     // parent is not a directory
  EXPECT_FALSE(tree.Link(0, "x", 42));    // out of range
  EXPECT_FALSE(tree.Link(0, "root", 0));  // the root already has its place
}

TEST(TreeTest, DirectoriesHaveOneParentAndNoLoops) {
  Tree tree;
  const NodeId a = tree.AddNode(Dir());
  const NodeId b = tree.AddNode(Dir());
  ASSERT_TRUE(tree.Link(0, "a", a));
  EXPECT_FALSE(tree.Link(0, "a2", a));
  ASSERT_TRUE(tree.Link(a, "b", b));
  EXPECT_FALSE(tree.Link(b, "loop", a));
  // Unlinking frees the directory to be linked elsewhere.
  ASSERT_TRUE(tree.Unlink(a, "b"));
  EXPECT_TRUE(tree.Link(0, "b", b));
  EXPECT_EQ(tree.Find("b"), std::optional<NodeId>(b));
  EXPECT_FALSE(tree.Unlink(0, "nope"));
}

TEST(TreeTest, LoopCheckInsideAnUnlinkedSubtree) {
  Tree tree;
  const NodeId a = tree.AddNode(Dir());
  const NodeId b = tree.AddNode(Dir());
  ASSERT_TRUE(tree.Link(a, "b", b));
  EXPECT_FALSE(tree.Link(b, "a", a));
  EXPECT_TRUE(tree.Link(0, "a", a));
}

TEST(TreeTest, ReplacingAnEntry) {
  Tree tree;
  const NodeId d1 = tree.AddNode(Dir());
  const NodeId d2 = tree.AddNode(Dir());
  const NodeId f = tree.AddNode(File());
  ASSERT_TRUE(tree.Link(0, "x", d1));
  ASSERT_TRUE(tree.Link(0, "x", d2));  // replaces d1, which loses its parent
  EXPECT_EQ(tree.Find("x"), std::optional<NodeId>(d2));
  EXPECT_TRUE(tree.Link(0, "y", d1));
  ASSERT_TRUE(tree.Link(0, "y", f));
  EXPECT_EQ(tree.Find("y"), std::optional<NodeId>(f));
  EXPECT_TRUE(tree.Link(0, "x", d2));  // same child again: no-op
}

}  // namespace
}  // namespace tessera::erofs
