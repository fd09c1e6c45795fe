// Hostile images against `tessera-image unpack`: escaping symlinks are created, never
// followed; a target that is not empty (or is a symlink) is refused; ".", ".." and "a/b"
// smuggled into dirents are rejected. In every case a sentinel directory next to the target
// stays empty and no file of the image appears outside the target.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string_view>
#include <tuple>

#include "builder_fixture.h"

#include "tessera/common/io.h"
#include "tessera/erofs/tree.h"
#include "tessera/erofs/writer.h"

namespace tessera::testing {
namespace {

using erofs::Node;
using erofs::NodeId;
using erofs::Tree;

class BuilderUnpackHostileTest : public BuilderTest {
 protected:
  void SetUp() override {
    BuilderTest::SetUp();
    if (IsSkipped()) return;
    sentinel_ = Path("outside");
    ASSERT_TRUE(MakeDir(sentinel_));
    boot_ = Path("hostile.boot");
  }

  static NodeId Add(Tree& tree, NodeId dir, const std::string& name, Node node) {
    NodeId id = tree.AddNode(std::move(node));
    EXPECT_TRUE(tree.Link(dir, name, id));
    return id;
  }
  static NodeId AddDir(Tree& tree, NodeId dir, const std::string& name) {
    return Add(tree, dir, name, Node{});
  }
  static NodeId AddFile(Tree& tree, NodeId dir, const std::string& name) {
    Node n;
    n.mode = S_IFREG | 0644;
    const std::string text = "payload bytes\n";
    n.size = text.size();
    n.data = std::make_shared<MemorySource>(std::vector<uint8_t>(text.begin(), text.end()));
    return Add(tree, dir, name, std::move(n));
  }
  static NodeId AddSymlink(Tree& tree, NodeId dir, const std::string& name,
                           const std::string& target) {
    Node n;
    n.mode = S_IFLNK | 0777;
    n.symlink_target = target;
    return Add(tree, dir, name, std::move(n));
  }

  // A plain EROFS image (no blobs) is a valid Tessera bootstrap.
  std::vector<uint8_t> Write(const Tree& tree) {
    VectorSink sink;
    auto stats = erofs::WriteImage(tree, {}, sink);
    EXPECT_TRUE(stats) << stats.error().ToString();
    return sink.data();
  }

  std::string Unpack(const std::string& output, int expect) {
    return Image({"unpack", "--bootstrap", boot_, "--output", output}, expect);
  }

  // The sentinel is empty, and the only files named "payload" are inside the target.
  void ExpectNothingOutside(const std::string& target) {
    DIR* d = ::opendir(sentinel_.c_str());
    ASSERT_NE(d, nullptr);
    int entries = 0;
    while (const dirent* e = ::readdir(d)) entries += e->d_name[0] != '.';
    ::closedir(d);
    EXPECT_EQ(entries, 0) << "something was written into " << sentinel_;
    auto r = RunCapture({"find", tmp_->path(), "-name", "payload", "-not", "-path", target + "/*"});
    ASSERT_TRUE(r && r->exit_code == 0);
    EXPECT_EQ(r->output, "") << "payload outside the target";
  }

  std::string sentinel_;
  std::string boot_;
};

TEST_F(BuilderUnpackHostileTest, EscapingSymlinksAreCreatedNeverFollowed) {
  Tree tree;
  const std::string target = Path("target");
  AddSymlink(tree, tree.root(), "abs", sentinel_);
  AddSymlink(tree, tree.root(), "rel", "../outside");
  NodeId deep = AddDir(tree, tree.root(), "deep");
  AddSymlink(tree, deep, "up", "../../outside/");
  NodeId h = AddSymlink(tree, tree.root(), "h1", sentinel_);
  ASSERT_TRUE(tree.Link(tree.root(), "h2", h));  // a hard-linked symlink
  NodeId z = AddDir(tree, tree.root(), "z");
  AddFile(tree, z, "payload");
  ASSERT_TRUE(WriteFile(boot_, Write(tree)));
  Unpack(target, 0);

  for (const auto& [name, want] :
       std::vector<std::pair<std::string, std::string>>{{"abs", sentinel_},
                                                        {"rel", "../outside"},
                                                        {"deep/up", "../../outside/"},
                                                        {"h1", sentinel_},
                                                        {"h2", sentinel_}}) {
    struct stat st {};
    ASSERT_EQ(::lstat((target + "/" + name).c_str(), &st), 0) << name;
    EXPECT_TRUE(S_ISLNK(st.st_mode)) << name;
    char buf[256] = {};
    ASSERT_GT(::readlink((target + "/" + name).c_str(), buf, sizeof(buf) - 1), 0);
    EXPECT_EQ(std::string(buf), want);
  }
  struct stat a {
  }, b{};
  ASSERT_EQ(::lstat((target + "/h1").c_str(), &a), 0);
  ASSERT_EQ(::lstat((target + "/h2").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(::access((target + "/z/payload").c_str(), F_OK), 0);
  ExpectNothingOutside(target);
}

TEST_F(BuilderUnpackHostileTest, TargetMustBeEmptyAndNotASymlink) {
  Tree tree;
  NodeId z = AddDir(tree, tree.root(), "z");
  AddFile(tree, z, "payload");
  ASSERT_TRUE(WriteFile(boot_, Write(tree)));
  // A pre-planted symlink named like an image directory.
  const std::string target = Path("target");
  ASSERT_TRUE(MakeDir(target));
  ASSERT_EQ(::symlink(sentinel_.c_str(), (target + "/z").c_str()), 0);
  std::string out = Unpack(target, 1);
  EXPECT_NE(out.find("not empty"), std::string::npos) << out;
  ExpectNothingOutside(target);
  // The target itself a symlink to the sentinel.
  const std::string link = Path("link");
  ASSERT_EQ(::symlink(sentinel_.c_str(), link.c_str()), 0);
  out = Unpack(link, 1);
  EXPECT_NE(out.find("not a symlink"), std::string::npos) << out;
  ExpectNothingOutside(target);
}

// Root: "a0b" (file) and "sub/zz/payload"; sub's names are stored as "...zz" ("." ".." "zz").
class SmuggledNameTest : public BuilderUnpackHostileTest,
                         public ::testing::WithParamInterface<std::tuple<const char*, int>> {};

struct Patch {
  const char* name;
  std::string_view find;
  std::string_view replace;
  std::string_view why;  // expected in the error
};

constexpr Patch kPatches[] = {
    {"slash", "a0b", "a/b", "contains '/'"},
    {"dotdot_duplicate", "...zz", ".....", "not after"},
    {"dot_duplicate", "...zz", std::string_view("....\0", 5), "not after"},
    // ".", ".-" (the real ".."), ".." (really "zz"): still sorted, so the walk's own
    // check of ".." must catch it.
    {"dotdot_swapped", "...zz", "..-..", "'..' points at nid"},
};

TEST_P(SmuggledNameTest, RejectedAndNothingOutside) {
  const Patch& patch = kPatches[std::get<1>(GetParam())];
  Tree tree;
  AddFile(tree, tree.root(), "a0b");
  NodeId sub = AddDir(tree, tree.root(), "sub");
  NodeId zz = AddDir(tree, sub, "zz");
  AddFile(tree, zz, "payload");
  std::vector<uint8_t> bytes = Write(tree);
  auto it = std::search(bytes.begin(), bytes.end(), patch.find.begin(), patch.find.end());
  ASSERT_NE(it, bytes.end());
  ASSERT_EQ(std::search(it + 1, bytes.end(), patch.find.begin(), patch.find.end()), bytes.end())
      << "pattern not unique";
  std::copy(patch.replace.begin(), patch.replace.end(), it);
  ASSERT_TRUE(WriteFile(boot_, bytes));

  const std::string output = Path(std::string("target") + std::get<0>(GetParam()));
  std::string out = Unpack(output, 1);
  EXPECT_NE(out.find(patch.why), std::string::npos) << out;
  ExpectNothingOutside(output);
  EXPECT_NE(::access(Path("target.tar").c_str(), F_OK), 0);
  EXPECT_NE(::access(Path("target.tar.tmp").c_str(), F_OK), 0);
}

INSTANTIATE_TEST_SUITE_P(Patches, SmuggledNameTest,
                         ::testing::Combine(::testing::Values("", ".tar"), ::testing::Range(0, 4)),
                         [](const auto& info) {
                           return std::string(kPatches[std::get<1>(info.param)].name) +
                                  (std::string(std::get<0>(info.param)).empty() ? "_dir" : "_tar");
                         });

}  // namespace
}  // namespace tessera::testing
