// create from OCI layer tars made by GNU tar: the mounted image equals what GNU tar extracts
// from the same tar; OCI whiteouts in layer tars merge like overlayfs over the same layers.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include "builder_fixture.h"
#include "support/tree_gen.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

struct TarCase {
  const char* name;
  const char* format;    // GNU tar --format
  const char* compress;  // "", "gzip", "zstd"
  bool stdin_input;
};

class BuilderTarTest : public BuilderTest, public ::testing::WithParamInterface<TarCase> {
 protected:
  // tar of `dir` (as GNU tar writes a layer), compressed per the case.
  std::string MakeTar(const std::string& dir, const std::string& out, const TarCase& c) {
    std::string cmd = "tar --format=" + std::string(c.format) +
                      " --xattrs --xattrs-include='*' --numeric-owner -C '" + dir + "' -cf - .";
    if (std::string(c.compress) == "gzip") cmd += " | gzip -6";
    if (std::string(c.compress) == "zstd") cmd += " | zstd -3 -q";
    cmd += " > '" + out + "'";
    auto r = RunCapture({"sh", "-c", cmd});
    EXPECT_TRUE(r && r->exit_code == 0) << cmd;
    return out;
  }
  void Extract(const std::string& tar, const std::string& dir) {
    ASSERT_TRUE(MakeDir(dir));
    auto r = RunCapture(
        {"tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tar, "-C", dir});
    ASSERT_TRUE(r && r->exit_code == 0) << (r ? r->output : "");
  }
};

TEST_P(BuilderTarTest, MountedImageEqualsGnuTarExtraction) {
  const TarCase& c = GetParam();
  std::string src = Path("src");
  ASSERT_TRUE(GenerateEdgeCaseTree(src));
  std::string tar = MakeTar(src, Path("layer.tar"), c);
  std::string boot = Path("layer.boot");
  if (c.stdin_input) {
    std::string cmd = "'" + BinPath("tessera-image") + "' create -q --bootstrap '" + boot +
                      "' --blob-dir '" + blobs_ + "' - < '" + tar + "'";
    auto r = RunCapture({"sh", "-c", cmd});
    ASSERT_TRUE(r && r->exit_code == 0) << (r ? r->output : "");
  } else {
    Create(tar, boot);
  }
  auto devices = Export(boot);
  Fsck(boot, devices);
  auto mnt = Mount(boot, devices);
  ASSERT_TRUE(mnt) << mnt.error().ToString();
  // Decompress for GNU tar's extraction (it reads what it wrote).
  std::string plain = Path("plain.tar");
  std::string unpack = std::string(c.compress) == "gzip"   ? "gzip -dc"
                       : std::string(c.compress) == "zstd" ? "zstd -dcq"
                                                           : "cat";
  auto r = RunCapture({"sh", "-c", unpack + " < '" + tar + "' > '" + plain + "'"});
  ASSERT_TRUE(r && r->exit_code == 0);
  std::string ext = Path("extracted");
  Extract(plain, ext);
  CompareOptions opts;
  opts.root_attrs = false;  // tar restores the root's attributes only partly
  ExpectSameTree(ext, mnt->path(), opts);
}

INSTANTIATE_TEST_SUITE_P(Formats, BuilderTarTest,
                         ::testing::Values(TarCase{"pax", "pax", "", false},
                                           TarCase{"pax_gzip", "pax", "gzip", false},
                                           TarCase{"pax_zstd", "pax", "zstd", false},
                                           TarCase{"gnu_gzip_stdin", "gnu", "gzip", true}),
                         [](const auto& info) { return std::string(info.param.name); });

// OCI whiteout files in layer tars, converted and merged, equal overlayfs over the same layers.
class BuilderOciLayersTest : public BuilderTarTest {
 protected:
  void File(const std::string& path, const std::string& content) {
    ASSERT_TRUE(WriteFile(
        path, std::span(reinterpret_cast<const uint8_t*>(content.data()), content.size())));
  }
  void Dir(const std::string& p) { ASSERT_EQ(::mkdir(p.c_str(), 0755), 0) << p; }

  // Turns an extracted OCI layer into overlayfs's format (for the reference mount).
  static void ToOverlayFormat(const std::string& dir) {
    std::vector<fs::path> marks;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.path().filename().string().rfind(".wh.", 0) == 0) marks.push_back(e.path());
    }
    for (const auto& m : marks) {
      std::string name = m.filename().string();
      fs::path parent = m.parent_path();
      struct stat before {};
      ::lstat(parent.c_str(), &before);  // keep the directory's mtime as the layer had it
      fs::remove(m);
      if (name == ".wh..wh..opq") {
        ::lsetxattr(parent.c_str(), "trusted.overlay.opaque", "y", 1, 0);
      } else {
        ::mknod((parent / name.substr(4)).c_str(), S_IFCHR, makedev(0, 0));
      }
      struct timespec times[2] = {before.st_atim, before.st_mtim};
      ::utimensat(AT_FDCWD, parent.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
  }
};

TEST_F(BuilderOciLayersTest, WhiteoutsInTarsMergeLikeOverlayfs) {
  std::string l1 = Path("l1"), l2 = Path("l2"), l3 = Path("l3");
  for (const auto& l : {l1, l2, l3}) Dir(l);
  Dir(l1 + "/a");
  File(l1 + "/a/file1", "lower file1");
  File(l1 + "/a/file2", std::string(70000, '2'));
  Dir(l1 + "/b");
  File(l1 + "/b/x", "hidden by opaque");
  Dir(l1 + "/c");
  File(l1 + "/c/y", "removed with c");
  Dir(l2 + "/a");
  File(l2 + "/a/.wh.file1", "");
  Dir(l2 + "/b");
  File(l2 + "/b/.wh..wh..opq", "");
  File(l2 + "/b/new", "in opaque b");
  File(l3 + "/.wh.c", "");
  File(l3 + "/e", std::string(50000, 'e'));
  std::vector<std::string> boots;
  TarCase c{"pax", "pax", "gzip", false};
  for (const auto& l : {l1, l2, l3}) {
    std::string tar = MakeTar(l, l + ".tar.gz", c);
    boots.push_back(l + ".boot");
    Create(tar, boots.back());
  }
  std::string merged = Path("merged.boot");
  Image({"merge", "--output", merged, boots[0], boots[1], boots[2]});
  auto devices = Export(merged);
  Fsck(merged, devices);
  auto mnt = Mount(merged, devices);
  ASSERT_TRUE(mnt) << mnt.error().ToString();

  std::vector<std::string> lowers;
  for (const auto& l : {l1, l2, l3}) {
    std::string x = l + ".x";
    Extract(l + ".tar.gz", x);
    ToOverlayFormat(x);
    lowers.insert(lowers.begin(), x);  // overlayfs lists the top layer first
  }
  std::string ovl = Path("ovl");
  Dir(ovl);
  auto guard = MountGuard::Mount("overlay", ovl, "overlay", MS_RDONLY,
                                 "lowerdir=" + lowers[0] + ":" + lowers[1] + ":" + lowers[2]);
  ASSERT_TRUE(guard) << guard.error().ToString();
  CompareOptions opts;
  opts.dir_nlink = false;
  ExpectSameTree(ovl, mnt->path(), opts);
  struct stat st {};
  EXPECT_NE(::lstat((mnt->path() + "/c").c_str(), &st), 0);
  EXPECT_NE(::lstat((mnt->path() + "/a/file1").c_str(), &st), 0);
  EXPECT_NE(::lstat((mnt->path() + "/b/x").c_str(), &st), 0);
}

}  // namespace
}  // namespace tessera::testing
