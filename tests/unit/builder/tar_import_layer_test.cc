// ImportTar's OCI layer semantics on hand-made archives: whiteouts and opaque directories,
// duplicates (last wins), directories declared after their children or never, the root entry,
// PAX attributes (mtime with nanoseconds, ids, xattrs) and hard-linked special files.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tar/tar_import.h"
#include "unit/builder/tar_test_util.h"

namespace tessera::builder {
namespace {

using tartest::Header;
using tartest::ImportBytes;
using tartest::MakeHeader;
using tartest::NodeBytes;
using tartest::TarWriter;

// Imports and fails the test on error.
TarImportStats MustImport(const std::string& bytes, erofs::Tree& tree,
                          const TarImportOptions& options = {}) {
  auto r = ImportBytes(bytes, tree, options);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  return r.has_value() ? *r : TarImportStats{};
}

const erofs::Node& At(const erofs::Tree& tree, const std::string& path) {
  static const erofs::Node kMissing = [] {
    erofs::Node n;
    n.mode = 0;
    return n;
  }();
  auto id = tree.Find(path);
  EXPECT_TRUE(id.has_value()) << path;
  return id.has_value() ? tree.node(*id) : kMissing;
}

std::string XattrValue(const erofs::Node& node, const std::string& name) {
  for (const erofs::Xattr& x : node.xattrs) {
    if (x.name == name) return x.value;
  }
  return "<none>";
}

TEST(TarImportLayerTest, WhiteoutsBecomeOverlayWhiteouts) {
  TarWriter w;
  w.AddDir("etc/");
  w.AddFile("etc/gone/inner", "subtree replaced by the whiteout");
  Header marker = MakeHeader("etc/.wh.gone");
  marker.uid = 7;
  marker.mtime = 1234;
  w.AddHeader(marker);
  w.AddFile("usr/.wh.lib", "");  // parent never declared
  w.AddFile("opaque/keep", "stays: this layer's own content");
  w.AddFile("opaque/.wh..wh..opq", "");
  w.AddFile("deep/new/.wh..wh..opq", "");  // opaque dir created by its marker
  w.AddFile("x/.wh..wh.plnk", "");         // reserved: skipped
  erofs::Tree tree;
  TarImportStats stats = MustImport(w.Finish(), tree);

  const erofs::Node& gone = At(tree, "etc/gone");
  EXPECT_EQ(gone.mode, static_cast<uint32_t>(S_IFCHR));
  EXPECT_EQ(gone.rdev, makedev(0, 0));
  EXPECT_EQ(gone.uid, 7u);
  EXPECT_EQ(gone.mtime, 1234);
  EXPECT_FALSE(tree.Find("etc/.wh.gone").has_value());
  EXPECT_FALSE(tree.Find("etc/gone/inner").has_value());
  EXPECT_TRUE(S_ISCHR(At(tree, "usr/lib").mode));
  EXPECT_EQ(XattrValue(At(tree, "opaque"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(NodeBytes(At(tree, "opaque/keep")), "stays: this layer's own content");
  EXPECT_FALSE(tree.Find("opaque/.wh..wh..opq").has_value());
  EXPECT_EQ(XattrValue(At(tree, "deep/new"), "trusted.overlay.opaque"), "y");
  EXPECT_FALSE(tree.Find("x").has_value());  // skipped before anything was created
  EXPECT_EQ(stats.whiteouts, 2u);
  EXPECT_EQ(stats.opaque_dirs, 2u);
  EXPECT_EQ(stats.skipped, 1u);
  EXPECT_FALSE(stats.warnings.empty());
}

TEST(TarImportLayerTest, OpaqueSurvivesALaterDirectoryEntry) {
  TarWriter w;
  w.AddFile("d/.wh..wh..opq", "");
  w.AddDir("d/", 0700, 33);
  erofs::Tree tree;
  MustImport(w.Finish(), tree);
  EXPECT_EQ(At(tree, "d").mode, static_cast<uint32_t>(S_IFDIR | 0700));
  EXPECT_EQ(At(tree, "d").uid, 33u);
  EXPECT_EQ(XattrValue(At(tree, "d"), "trusted.overlay.opaque"), "y");
}

TEST(TarImportLayerTest, WhiteoutsKeptAsFilesWhenNotConverting) {
  TarWriter w;
  w.AddFile("a/.wh.b", "");
  w.AddFile("a/.wh..wh..opq", "");
  erofs::Tree tree;
  TarImportStats stats = MustImport(w.Finish(), tree, {.convert_whiteouts = false});
  EXPECT_TRUE(S_ISREG(At(tree, "a/.wh.b").mode));
  EXPECT_TRUE(S_ISREG(At(tree, "a/.wh..wh..opq").mode));
  EXPECT_EQ(stats.whiteouts, 0u);
}

TEST(TarImportLayerTest, InvalidWhiteoutNames) {
  for (const std::string& name : std::vector<std::string>{".wh.", "a/.wh.."}) {
    TarWriter w;
    w.AddFile(name, "");
    erofs::Tree tree;
    auto r = ImportBytes(w.Finish(), tree);
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << r.error().ToString();
  }
}

TEST(TarImportLayerTest, DuplicatesLastWins) {
  TarWriter w;
  w.AddFile("f", "first");
  w.AddFile("f", "second");
  w.AddDir("d/", 0700);
  w.AddFile("d/child", "dropped with its directory");
  w.AddFile("d", "a file replaces the directory");
  w.AddFile("e", "replaced by a directory");
  w.AddDir("e/");
  w.AddFile("e/inside", "x");
  w.AddDir("k/", 0700, 5);
  w.AddFile("k/kept", "kept");
  w.AddDir("k/", 0751, 9);  // a directory over a directory: attributes only
  erofs::Tree tree;
  MustImport(w.Finish(), tree);
  EXPECT_EQ(NodeBytes(At(tree, "f")), "second");
  EXPECT_EQ(NodeBytes(At(tree, "d")), "a file replaces the directory");
  EXPECT_FALSE(tree.Find("d/child").has_value());
  EXPECT_TRUE(At(tree, "e").is_dir());
  EXPECT_EQ(NodeBytes(At(tree, "e/inside")), "x");
  EXPECT_EQ(At(tree, "k").mode, static_cast<uint32_t>(S_IFDIR | 0751));
  EXPECT_EQ(At(tree, "k").uid, 9u);
  EXPECT_EQ(NodeBytes(At(tree, "k/kept")), "kept");
}

TEST(TarImportLayerTest, ReplacingAHardLinkedNameKeepsTheOtherName) {
  TarWriter w;
  w.AddFile("a", "shared");
  w.AddHardLink("b", "a");
  w.AddFile("a", "new a");
  w.AddHardLink("c", "a");  // names the new "a"
  erofs::Tree tree;
  MustImport(w.Finish(), tree);
  EXPECT_EQ(NodeBytes(At(tree, "b")), "shared");
  EXPECT_EQ(NodeBytes(At(tree, "a")), "new a");
  EXPECT_EQ(*tree.Find("a"), *tree.Find("c"));
  EXPECT_NE(*tree.Find("a"), *tree.Find("b"));
}

TEST(TarImportLayerTest, DirectoriesAfterChildrenOrNever) {
  TarWriter w;
  w.AddFile("a/b/c", "leaf");
  Header dir = MakeHeader("a/", '5');
  dir.mode = 0700;
  dir.uid = 1000;
  dir.gid = 100;
  dir.mtime = 12345;
  w.AddHeader(dir);
  erofs::Tree tree;
  TarImportStats stats = MustImport(w.Finish(), tree);
  EXPECT_EQ(stats.implicit_dirs, 2u);
  const erofs::Node& a = At(tree, "a");
  EXPECT_EQ(a.mode, static_cast<uint32_t>(S_IFDIR | 0700));
  EXPECT_EQ(a.uid, 1000u);
  EXPECT_EQ(a.gid, 100u);
  EXPECT_EQ(a.mtime, 12345);
  const erofs::Node& b = At(tree, "a/b");  // never declared
  EXPECT_EQ(b.mode, static_cast<uint32_t>(S_IFDIR | 0755));
  EXPECT_EQ(b.uid, 0u);
  EXPECT_EQ(b.mtime, 0);
  EXPECT_EQ(NodeBytes(At(tree, "a/b/c")), "leaf");
}

TEST(TarImportLayerTest, TwoStreamsOfOneLayerApplyToOneTree) {
  TarWriter first;
  first.AddFile("dir/one", "1");
  TarWriter second;
  second.AddFile("dir/two", "2");
  second.AddFile("dir/.wh.one", "");
  erofs::Tree tree;
  MustImport(first.Finish(), tree);
  MustImport(second.Finish(), tree);
  EXPECT_TRUE(S_ISCHR(At(tree, "dir/one").mode));
  EXPECT_EQ(NodeBytes(At(tree, "dir/two")), "2");
}

TEST(TarImportLayerTest, RootEntry) {
  TarWriter w;
  Header root = MakeHeader("./", '5');
  root.mode = 0700;
  root.uid = 3;
  root.mtime = 99;
  w.AddHeader(root);
  w.AddFile("f", "x");
  erofs::Tree tree;
  MustImport(w.Finish(), tree);
  EXPECT_EQ(tree.node(tree.root()).mode, static_cast<uint32_t>(S_IFDIR | 0700));
  EXPECT_EQ(tree.node(tree.root()).uid, 3u);
  EXPECT_EQ(tree.node(tree.root()).mtime, 99);

  TarWriter bad;
  bad.AddFile(".", "a file as the root");
  erofs::Tree tree2;
  auto r = ImportBytes(bad.Finish(), tree2);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r.error().context.find("names the root"), std::string::npos);
}

TEST(TarImportLayerTest, PaxAttributes) {
  TarWriter w;
  w.AddPax({{"mtime", "1700000000.123456789"},
            {"uid", "4000000000"},
            {"gid", "70000"},
            {"uname", "ignored"},
            {"SCHILY.xattr.user.plain", "v"},
            {"SCHILY.xattr.security.capability", std::string("\x01\x00\x00\x02", 4)},
            {"SCHILY.xattr.system.posix_acl_access", std::string("\x02\x00\x00\x00", 4)},
            {"SCHILY.xattr.system.nfs4_acl", "dropped"},
            {"LIBARCHIVE.xattr.user.b64", "aGVsbG8"},
            {"SCHILY.xattr.user.twice", "1"}});
  w.AddFile("f", "data");
  w.AddPax({{"mtime", "-1.25"}, {"linkpath", std::string(300, 't')}});
  w.AddSymlink("old_link", "short");
  erofs::Tree tree;
  TarImportStats stats = MustImport(w.Finish(), tree);
  const erofs::Node& f = At(tree, "f");
  EXPECT_EQ(f.mtime, 1700000000);
  EXPECT_EQ(f.mtime_nsec, 123456789u);
  EXPECT_EQ(f.uid, 4000000000u);
  EXPECT_EQ(f.gid, 70000u);
  EXPECT_EQ(XattrValue(f, "user.plain"), "v");
  EXPECT_EQ(XattrValue(f, "security.capability"), std::string("\x01\x00\x00\x02", 4));
  EXPECT_EQ(XattrValue(f, "system.posix_acl_access"), std::string("\x02\x00\x00\x00", 4));
  EXPECT_EQ(XattrValue(f, "user.b64"), "hello");
  EXPECT_EQ(XattrValue(f, "system.nfs4_acl"), "<none>");
  EXPECT_EQ(stats.dropped_xattrs, 1u);
  const erofs::Node& l = At(tree, "old_link");
  EXPECT_EQ(l.symlink_target, std::string(300, 't'));
  EXPECT_EQ(l.mtime, -2);  // -1.25 s
  EXPECT_EQ(l.mtime_nsec, 750000000u);
}

TEST(TarImportLayerTest, BadIdsAndXattrs) {
  for (const auto& record : std::vector<std::pair<std::string, std::string>>{
           {"uid", "4294967296"},
           {"gid", "-5"},
           {"SCHILY.xattr.user.big", std::string(70000, 'v')}}) {
    TarWriter w;
    w.AddPax({record});
    w.AddFile("f", "x");
    erofs::Tree tree;
    auto r = ImportBytes(w.Finish(), tree);
    ASSERT_FALSE(r.has_value()) << record.first;
    EXPECT_NE(r.error().context.find("'f'"), std::string::npos) << r.error().ToString();
  }
}

TEST(TarImportLayerTest, HardLinkedSpecialFiles) {
  TarWriter w;
  Header chr = MakeHeader("dev/null", '3');
  chr.dev_major = 1;
  chr.dev_minor = 3;
  w.AddHeader(chr);
  Header blk = MakeHeader("dev/sda", '4');
  blk.dev_major = 8;
  w.AddHeader(blk);
  w.AddHeader(MakeHeader("pipe", '6'));
  w.AddHardLink("dev/null2", "dev/null");
  w.AddHardLink("sda2", "dev/sda");
  w.AddHardLink("pipe2", "pipe");
  erofs::Tree tree;
  TarImportStats stats = MustImport(w.Finish(), tree);
  EXPECT_EQ(*tree.Find("dev/null"), *tree.Find("dev/null2"));
  EXPECT_EQ(*tree.Find("dev/sda"), *tree.Find("sda2"));
  EXPECT_EQ(*tree.Find("pipe"), *tree.Find("pipe2"));
  EXPECT_TRUE(S_ISCHR(At(tree, "dev/null").mode));
  EXPECT_EQ(At(tree, "dev/null").rdev, makedev(1, 3));
  EXPECT_TRUE(S_ISBLK(At(tree, "sda2").mode));
  EXPECT_EQ(At(tree, "sda2").rdev, makedev(8, 0));
  EXPECT_TRUE(S_ISFIFO(At(tree, "pipe2").mode));
  EXPECT_EQ(stats.hardlinks, 3u);
}

}  // namespace
}  // namespace tessera::builder
