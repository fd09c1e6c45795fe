// Mount assembly (mounts/mounts.h) for each shape containerd's overlayfs snapshotter produces.
#include "mounts/mounts.h"

#include <gtest/gtest.h>

namespace tessera::snapshotter::internal {
namespace {

MountPlan Plan(Kind kind, std::vector<std::string> lowers, bool index_off = false) {
  return MountPlan{.kind = kind,
                   .fs_dir = "/r/snapshots/9/fs",
                   .work_dir = "/r/snapshots/9/work",
                   .lower_dirs = std::move(lowers),
                   .index_off = index_off};
}

TEST(MountsTest, ActiveWithoutParentIsReadWriteBind) {
  EXPECT_EQ(ComputeMounts(Plan(Kind::kActive, {})),
            (std::vector<Mount>{{"bind", "/r/snapshots/9/fs", "", {"rw", "rbind"}}}));
}

TEST(MountsTest, ViewWithoutParentIsReadOnlyBindOfItsOwnDir) {
  EXPECT_EQ(ComputeMounts(Plan(Kind::kView, {})),
            (std::vector<Mount>{{"bind", "/r/snapshots/9/fs", "", {"ro", "rbind"}}}));
}

TEST(MountsTest, ViewOfOneParentIsReadOnlyBindOfTheParent) {
  EXPECT_EQ(ComputeMounts(Plan(Kind::kView, {"/r/snapshots/1/fs"})),
            (std::vector<Mount>{{"bind", "/r/snapshots/1/fs", "", {"ro", "rbind"}}}));
}

TEST(MountsTest, ActiveOnOneParentIsOverlayWithUpperAndWork) {
  EXPECT_EQ(ComputeMounts(Plan(Kind::kActive, {"/r/snapshots/1/fs"})),
            (std::vector<Mount>{{"overlay",
                                 "overlay",
                                 "",
                                 {"workdir=/r/snapshots/9/work", "upperdir=/r/snapshots/9/fs",
                                  "lowerdir=/r/snapshots/1/fs"}}}));
}

TEST(MountsTest, LowerDirsKeepNearestParentFirst) {
  auto mounts = ComputeMounts(Plan(Kind::kActive, {"/r/3/fs", "/r/2/fs", "/r/1/fs"}, true));
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].options, (std::vector<std::string>{"index=off", "workdir=/r/snapshots/9/work",
                                                         "upperdir=/r/snapshots/9/fs",
                                                         "lowerdir=/r/3/fs:/r/2/fs:/r/1/fs"}));
}

TEST(MountsTest, ViewOfSeveralParentsIsLowerOnlyOverlay) {
  EXPECT_EQ(ComputeMounts(Plan(Kind::kView, {"/r/2/fs", "/r/1/fs"})),
            (std::vector<Mount>{{"overlay", "overlay", "", {"lowerdir=/r/2/fs:/r/1/fs"}}}));
}

TEST(MountsTest, RemoteLowerDirIsUsedAsGiven) {
  // A Tessera layer's content is a tesserad mount; it is one more lower dir.
  auto mounts = ComputeMounts(Plan(Kind::kActive, {"/r/2/fs", "/run/tesserad/mnt/img"}));
  EXPECT_EQ(mounts[0].options.back(), "lowerdir=/r/2/fs:/run/tesserad/mnt/img");
}

}  // namespace
}  // namespace tessera::snapshotter::internal
