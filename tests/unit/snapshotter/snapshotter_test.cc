// Snapshotter semantics on a real directory, compared with containerd's overlayfs snapshotter:
// layout, mounts, commit, usage, update, list, remove, cleanup and error codes.
#include "tessera/snapshotter/snapshotter.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "snapshotter_test_util.h"

#include "tessera/common/io.h"

namespace tessera::snapshotter {
namespace {

using testing_util::DirEntries;
using testing_util::SnapshotterTest;

TEST_F(SnapshotterTest, PrepareWithoutParentIsABindOfANewFsDir) {
  auto mounts = snap_->Prepare("ns/1/a", "", {{"k", "v"}});
  ASSERT_TRUE(mounts.has_value()) << mounts.error().ToString();
  ASSERT_EQ(mounts->size(), 1u);
  EXPECT_EQ((*mounts)[0].type, "bind");
  EXPECT_EQ((*mounts)[0].source, root() + "/snapshots/1/fs");
  EXPECT_EQ((*mounts)[0].options, (std::vector<std::string>{"rw", "rbind"}));
  EXPECT_EQ(DirEntries(root() + "/snapshots/1"), (std::vector<std::string>{"fs", "work"}));
  auto info = snap_->Stat("ns/1/a");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->kind, Kind::kActive);
  EXPECT_EQ(info->labels, (Labels{{"k", "v"}}));
  EXPECT_GT(info->created_ns, 0);
  EXPECT_EQ(info->created_ns, info->updated_ns);
}

TEST_F(SnapshotterTest, LayerChainGivesOverlayWithNearestParentFirst) {
  MakeLayer("l1", "", "one");
  MakeLayer("l2", "l1", "two");
  MakeLayer("l3", "l2", "three");
  auto mounts = snap_->Prepare("c", "l3", {});
  ASSERT_TRUE(mounts.has_value()) << mounts.error().ToString();
  ASSERT_EQ(mounts->size(), 1u);
  const Mount& m = (*mounts)[0];
  EXPECT_EQ(m.type, "overlay");
  const std::string s = root() + "/snapshots/";
  EXPECT_EQ(m.options,
            (std::vector<std::string>{"workdir=" + s + "4/work", "upperdir=" + s + "4/fs",
                                      "lowerdir=" + s + "3/fs:" + s + "2/fs:" + s + "1/fs"}));
  auto again = snap_->Mounts("c");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *mounts);
}

TEST_F(SnapshotterTest, ViewsAreReadOnly) {
  MakeLayer("l1", "", "one");
  auto one = snap_->View("v1", "l1", {});
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, (std::vector<Mount>{{"bind", root() + "/snapshots/1/fs", "", {"ro", "rbind"}}}));
  MakeLayer("l2", "l1", "two");
  auto two = snap_->View("v2", "l2", {});
  ASSERT_TRUE(two.has_value());
  const std::string s = root() + "/snapshots/";
  EXPECT_EQ(
      *two,
      (std::vector<Mount>{{"overlay", "overlay", "", {"lowerdir=" + s + "3/fs:" + s + "1/fs"}}}));
  EXPECT_EQ(DirEntries(s + "4"), std::vector<std::string>{"fs"});  // no work dir for a view
  EXPECT_EQ(snap_->Commit("x", "v2", {}).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(snap_->GetUsage("v2")->size, 0);
}

TEST_F(SnapshotterTest, CommitRecordsUsageAndLabels) {
  ASSERT_TRUE(snap_->Prepare("k", "", {{"old", "1"}}).has_value());
  WriteFileIn(root() + "/snapshots/1/fs/data", std::string(10000, 'x'));
  ASSERT_TRUE(::link((root() + "/snapshots/1/fs/data").c_str(),
                     (root() + "/snapshots/1/fs/hardlink").c_str()) == 0);
  auto active = snap_->GetUsage("k");
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(active->inodes, 2);  // fs dir and one file (the hard link counted once)
  EXPECT_GE(active->size, 12288);
  ASSERT_TRUE(snap_->Commit("layer", "k", {{"new", "2"}}).has_value());
  auto info = snap_->Stat("layer");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->kind, Kind::kCommitted);
  EXPECT_EQ(info->labels, (Labels{{"new", "2"}}));
  EXPECT_EQ(snap_->Stat("k").error().code, ErrorCode::kNotFound);
  auto usage = snap_->GetUsage("layer");
  ASSERT_TRUE(usage.has_value());
  EXPECT_EQ(usage->size, active->size);
  EXPECT_EQ(usage->inodes, 2);
  EXPECT_EQ(snap_->Mounts("layer").error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(SnapshotterTest, ErrorCodesMatchContainerd) {
  MakeLayer("l1", "", "one");
  ASSERT_TRUE(snap_->Prepare("a", "l1", {}).has_value());
  EXPECT_EQ(snap_->Prepare("a", "", {}).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(snap_->Prepare("b", "missing", {}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(snap_->Prepare("b", "a", {}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(snap_->Commit("l1", "a", {}).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(snap_->Commit("z", "nope", {}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(snap_->Remove("l1").error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(snap_->Remove("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(snap_->Mounts("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(snap_->List({"name=="}).error().code, ErrorCode::kInvalidArgument);
  // Failed operations left no directories behind.
  EXPECT_EQ(DirEntries(root() + "/snapshots"), (std::vector<std::string>{"1", "2"}));
}

TEST_F(SnapshotterTest, RemoveDeletesTheDirectoryChildFirst) {
  MakeLayer("l1", "", "one");
  ASSERT_TRUE(snap_->Prepare("c", "l1", {}).has_value());
  ASSERT_TRUE(snap_->Remove("c").has_value());
  EXPECT_EQ(DirEntries(root() + "/snapshots"), std::vector<std::string>{"1"});
  ASSERT_TRUE(snap_->Remove("l1").has_value());
  EXPECT_TRUE(DirEntries(root() + "/snapshots").empty());
  EXPECT_TRUE(snap_->List({})->empty());
}

TEST_F(SnapshotterTest, UpdateChangesLabelsOnly) {
  ASSERT_TRUE(snap_->Prepare("a", "", {{"keep", "1"}, {"drop", "2"}}).has_value());
  SnapshotInfo in{.name = "a", .parent = "ignored", .kind = Kind::kView, .labels = {{"set", "3"}}};
  auto out = snap_->Update(in, {"labels.set", "labels.drop"});
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  EXPECT_EQ(out->labels, (Labels{{"keep", "1"}, {"set", "3"}}));
  EXPECT_EQ(out->kind, Kind::kActive);
  EXPECT_EQ(out->parent, "");
  EXPECT_GE(out->updated_ns, out->created_ns);
  auto all = snap_->Update(in, {});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->labels, (Labels{{"set", "3"}}));
  EXPECT_EQ(snap_->Update(in, {"parent"}).error().code, ErrorCode::kInvalidArgument);
  in.name = "nope";
  EXPECT_EQ(snap_->Update(in, {}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(snap_->Stat("a")->labels, (Labels{{"set", "3"}}));
}

TEST_F(SnapshotterTest, ListFiltersLikeContainerd) {
  MakeLayer("ns/1/sha256:aa", "", "one", {{"containerd.io/snapshot.ref", "sha256:aa"}});
  MakeLayer("ns/2/sha256:bb", "ns/1/sha256:aa", "two");
  ASSERT_TRUE(snap_->Prepare("ns/3/c", "ns/2/sha256:bb", {}).has_value());
  auto names = [&](const std::vector<std::string>& filters) {
    std::vector<std::string> out;
    for (const auto& i : snap_->List(filters).value_or({})) out.push_back(i.name);
    return out;
  };
  EXPECT_EQ(names({}).size(), 3u);
  EXPECT_EQ(names({R"(labels."containerd.io/snapshot.ref"==sha256:aa)"}),
            std::vector<std::string>{"ns/1/sha256:aa"});
  EXPECT_EQ(names({"parent==ns/2/sha256:bb"}), std::vector<std::string>{"ns/3/c"});
  // name and parent are always present, as in containerd's adaptor; containerd's
  // remote-snapshot lookup filters base layers with parent=="".
  EXPECT_EQ(names({"kind==committed,parent"}),
            (std::vector<std::string>{"ns/1/sha256:aa", "ns/2/sha256:bb"}));
  EXPECT_EQ(names({R"(kind==committed,parent=="")"}), std::vector<std::string>{"ns/1/sha256:aa"});
  EXPECT_EQ(names({"kind==active", "name==ns/1/sha256:aa"}),
            (std::vector<std::string>{"ns/1/sha256:aa", "ns/3/c"}));
}

TEST_F(SnapshotterTest, CleanupRemovesOnlyUnownedDirs) {
  MakeLayer("l1", "", "one");
  ASSERT_TRUE(std::filesystem::create_directories(root() + "/snapshots/55/fs"));
  ASSERT_TRUE(std::filesystem::create_directories(root() + "/snapshots/new-9/fs"));
  ASSERT_TRUE(snap_->Cleanup().has_value());
  EXPECT_EQ(DirEntries(root() + "/snapshots"), std::vector<std::string>{"1"});
  EXPECT_EQ(ReadText(root() + "/snapshots/1/fs/file"), "one");
}

TEST_F(SnapshotterTest, NewUpperDirTakesTheParentsOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  MakeLayer("l1", "", "one");
  ASSERT_EQ(::chown((root() + "/snapshots/1/fs").c_str(), 1234, 5678), 0);
  ASSERT_TRUE(snap_->Prepare("c", "l1", {}).has_value());
  struct stat st {};
  ASSERT_EQ(::stat((root() + "/snapshots/2/fs").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
}

}  // namespace
}  // namespace tessera::snapshotter
