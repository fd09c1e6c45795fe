// Whiteouts as real image tools write them: umoci (go-mtree diffs) writes a directory replaced
// by a file as the file followed by whiteouts of the old directory's children. Those whiteouts
// hide nothing the layer still shows and are skipped; a real entry below a file stays an error.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "tar/tar_import.h"
#include "unit/builder/tar_test_util.h"

namespace tessera::builder {
namespace {

using tartest::ImportBytes;
using tartest::NodeBytes;
using tartest::TarWriter;

TEST(TarImportWhiteoutTest, WhiteoutsBelowAReplacingFileAreSkipped) {
  TarWriter w;
  w.AddDir("usr/share/");
  w.AddFile("usr/share/info", "now a file");
  w.AddFile("usr/share/info/.wh.coreutils.info.gz", "");
  w.AddFile("usr/share/info/.wh..wh..opq", "");
  w.AddFile("usr/share/.wh.man", "");
  erofs::Tree tree;
  auto stats = ImportBytes(w.Finish(), tree);
  ASSERT_TRUE(stats) << stats.error().ToString();
  auto info = tree.Find("usr/share/info");
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(S_ISREG(tree.node(*info).mode));
  EXPECT_EQ(NodeBytes(tree.node(*info)), "now a file");
  EXPECT_EQ(stats->skipped, 2u);
  EXPECT_EQ(stats->whiteouts, 1u);  // usr/share/man
  EXPECT_EQ(stats->opaque_dirs, 0u);
}

TEST(TarImportWhiteoutTest, RealEntriesBelowAFileStayAnError) {
  TarWriter w;
  w.AddFile("usr/share/info", "now a file");
  w.AddFile("usr/share/info/dir", "a file below a file");
  erofs::Tree tree;
  auto stats = ImportBytes(w.Finish(), tree);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, ErrorCode::kCorrupt);
}

// Parents a layer never declares are marked, so that a merge keeps the lower directory's
// attributes (umoci leaves out unchanged parents such as "usr/" of "usr/bin/x").
TEST(TarImportWhiteoutTest, UndeclaredParentsAreMarkedImplicit) {
  TarWriter w;
  w.AddFile("usr/bin/x", "x");
  w.AddFile("etc/y", "y");
  w.AddDir("etc/", 0700);
  erofs::Tree tree;
  auto stats = ImportBytes(w.Finish(), tree);
  ASSERT_TRUE(stats) << stats.error().ToString();
  auto has_marker = [&](const std::string& path) {
    const erofs::Node& node = tree.node(*tree.Find(path));
    for (const erofs::Xattr& x : node.xattrs) {
      if (x.name == "trusted.overlay.tessera.implicit" && x.value == "y") return true;
    }
    return false;
  };
  EXPECT_TRUE(has_marker("usr"));
  EXPECT_TRUE(has_marker("usr/bin"));
  EXPECT_FALSE(has_marker("etc"));  // declared after its child
}

TEST(TarImportWhiteoutTest, RootIsImplicitUntilDeclared) {
  auto root_marked = [](const std::string& tar) {
    erofs::Tree tree;
    auto stats = ImportBytes(tar, tree);
    EXPECT_TRUE(stats) << stats.error().ToString();
    for (const erofs::Xattr& x : tree.node(tree.root()).xattrs) {
      if (x.name == "trusted.overlay.tessera.implicit") return true;
    }
    return false;
  };
  TarWriter without;
  without.AddFile("a", "a");
  EXPECT_TRUE(root_marked(without.Finish()));
  TarWriter with;
  with.AddDir("./", 0750);
  with.AddFile("a", "a");
  EXPECT_FALSE(root_marked(with.Finish()));
}

}  // namespace
}  // namespace tessera::builder
