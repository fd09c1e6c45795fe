// merge: three layers with whiteouts and opaque dirs == what overlayfs shows for the same layers.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "builder_fixture.h"

namespace tessera::testing {
namespace {

class BuilderMergeTest : public BuilderTest {
 protected:
  void File(const std::string& path, const std::string& content) {
    ASSERT_TRUE(WriteFile(
        path, std::span(reinterpret_cast<const uint8_t*>(content.data()), content.size())));
  }
  void Dir(const std::string& path) { ASSERT_EQ(::mkdir(path.c_str(), 0755), 0) << path; }
  void Whiteout(const std::string& path) {
    ASSERT_EQ(::mknod(path.c_str(), S_IFCHR | 0, makedev(0, 0)), 0) << path;
  }
  void Opaque(const std::string& path) {
    ASSERT_EQ(::lsetxattr(path.c_str(), "trusted.overlay.opaque", "y", 1, 0), 0) << path;
  }

  // Three layers in overlayfs's own format (whiteouts are char 0:0, opaque dirs carry the xattr).
  void MakeLayers() {
    std::string l1 = Path("l1"), l2 = Path("l2"), l3 = Path("l3");
    Dir(l1);
    Dir(l1 + "/a");
    File(l1 + "/a/file1", "lower file1");
    File(l1 + "/a/file2", "lower file2");
    Dir(l1 + "/b");
    File(l1 + "/b/x", "hidden by opaque");
    Dir(l1 + "/b/sub");
    Dir(l1 + "/c");
    Dir(l1 + "/c/deep");
    File(l1 + "/c/deep/y", "removed with c");
    File(l1 + "/d", "file replaced by a dir");
    File(l1 + "/hl1", std::string(100000, 'h'));  // chunked, hard-linked
    ASSERT_EQ(::link((l1 + "/hl1").c_str(), (l1 + "/hl2").c_str()), 0);
    Dir(l2);
    Dir(l2 + "/a");
    Whiteout(l2 + "/a/file1");
    Dir(l2 + "/b");
    Opaque(l2 + "/b");
    File(l2 + "/b/new", "in opaque b");
    Dir(l2 + "/d");
    File(l2 + "/d/z", std::string(9000, 'z'));
    File(l2 + "/e", "new in l2");
    Dir(l3);
    Whiteout(l3 + "/c");
    Dir(l3 + "/a");
    File(l3 + "/a/file2", std::string(50000, 'u'));  // upper wins
    ASSERT_EQ(::symlink("a/file2", (l3 + "/f").c_str()), 0);
    for (const auto& l : {l1, l2, l3}) ASSERT_EQ(::chmod(l.c_str(), 0755), 0);
  }
};

TEST_F(BuilderMergeTest, MergedImageEqualsOverlayfs) {
  MakeLayers();
  std::vector<std::string> boots;
  for (const char* l : {"l1", "l2", "l3"}) {
    boots.push_back(Path(std::string(l) + ".boot"));
    Create(Path(l), boots.back(), {"--chunk-size", "4K"});
  }
  std::string merged = Path("merged.boot");
  Image({"merge", "--output", merged, boots[0], boots[1], boots[2]});
  Image({"check", "--bootstrap", merged, "--blob-dir", blobs_});
  auto devices = Export(merged);
  EXPECT_EQ(devices.size(), 3u);
  Fsck(merged, devices);
  auto mnt = Mount(merged, devices);
  ASSERT_TRUE(mnt) << mnt.error().ToString();

  std::string ovl = Path("ovl");
  Dir(ovl);
  std::string opts = "lowerdir=" + Path("l3") + ":" + Path("l2") + ":" + Path("l1");
  auto guard = MountGuard::Mount("overlay", ovl, "overlay", MS_RDONLY, opts);
  ASSERT_TRUE(guard) << guard.error().ToString();
  CompareOptions compare;
  compare.dir_nlink = false;  // overlayfs counts merged directories' links differently
  ExpectSameTree(ovl, mnt->path(), compare);
  // Spot checks that make the semantics explicit.
  struct stat st {};
  EXPECT_NE(::lstat((mnt->path() + "/a/file1").c_str(), &st), 0);
  EXPECT_NE(::lstat((mnt->path() + "/b/x").c_str(), &st), 0);
  EXPECT_NE(::lstat((mnt->path() + "/c").c_str(), &st), 0);
  EXPECT_EQ(::lstat((mnt->path() + "/d/z").c_str(), &st), 0);
  EXPECT_EQ(::lgetxattr((mnt->path() + "/b").c_str(), "trusted.overlay.opaque", nullptr, 0), -1);
}

}  // namespace
}  // namespace tessera::testing
