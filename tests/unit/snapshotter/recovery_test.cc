// Crash safety: states a killed snapshotter can leave (metadata committed but directory still
// under its temporary name, a half-made directory, an orphan) are repaired on Open, and a
// process killed with SIGKILL at random points always reopens into a consistent root.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "snapshotter_test_util.h"

namespace tessera::snapshotter {
namespace {

using testing_util::DirEntries;
using testing_util::SnapshotterTest;

class RecoveryTest : public SnapshotterTest {
 protected:
  std::string Snap(const std::string& name) const { return root() + "/snapshots/" + name; }

  // Every snapshot's directories exist, every directory belongs to a snapshot, parents are
  // committed; returns how many snapshots there are.
  size_t CheckConsistent() {
    auto all = snap_->List({});
    EXPECT_TRUE(all.has_value());
    if (!all) return 0;
    for (const SnapshotInfo& info : *all) {
      if (!info.parent.empty()) {
        auto p = snap_->Stat(info.parent);
        EXPECT_TRUE(p.has_value()) << info.name;
        if (p) {
          EXPECT_EQ(p->kind, Kind::kCommitted) << info.name;
        }
      }
      if (info.kind == Kind::kCommitted) {
        EXPECT_TRUE(snap_->GetUsage(info.name).has_value()) << info.name;
        continue;
      }
      auto mounts = snap_->Mounts(info.name);
      EXPECT_TRUE(mounts.has_value()) << info.name;
      if (!mounts || info.kind != Kind::kActive) continue;
      std::string upper = UpperDir(mounts->front());
      EXPECT_TRUE(std::filesystem::is_directory(upper)) << upper;
    }
    EXPECT_EQ(DirEntries(root() + "/snapshots").size(), all->size());
    for (const std::string& e : DirEntries(root() + "/snapshots")) {
      EXPECT_FALSE(e.starts_with("new-")) << e;
    }
    return all->size();
  }
};

TEST_F(RecoveryTest, CommittedMetadataWithTempDirIsRolledForward) {
  ASSERT_TRUE(snap_->Prepare("a", "", {}).has_value());
  snap_.reset();
  std::filesystem::rename(Snap("1"), Snap("new-1"));  // killed between batch and rename
  Reopen();
  EXPECT_EQ(DirEntries(Snap("1")), (std::vector<std::string>{"fs", "work"}));
  EXPECT_EQ(CheckConsistent(), 1u);
}

TEST_F(RecoveryTest, HalfMadeAndOrphanDirsAreRemovedOnOpen) {
  MakeLayer("l1", "", "one");
  snap_.reset();
  std::filesystem::create_directories(Snap("new-2/fs"));   // killed before the batch
  std::filesystem::create_directories(Snap("9/fs/deep"));  // killed after a Remove's batch
  Reopen();
  EXPECT_EQ(DirEntries(root() + "/snapshots"), std::vector<std::string>{"1"});
  EXPECT_EQ(ReadText(Snap("1/fs/file")), "one");
  // The id of the half-made snapshot is reused: its batch never committed.
  ASSERT_TRUE(snap_->Prepare("b", "l1", {}).has_value());
  EXPECT_TRUE(std::filesystem::is_directory(Snap("2/work")));
}

TEST_F(RecoveryTest, LostDirIsRecreatedEmpty) {
  ASSERT_TRUE(snap_->Prepare("a", "", {}).has_value());
  snap_.reset();
  std::filesystem::remove_all(Snap("1"));
  Reopen();
  EXPECT_EQ(DirEntries(Snap("1")), (std::vector<std::string>{"fs", "work"}));
}

// The child runs a stream of operations until it is killed; it writes one byte to `ready_fd`
// once its first snapshot exists, so every round makes progress even on a slow (ASan) build.
[[noreturn]] void RunOperations(const std::string& root, int round, int ready_fd) {
  Logger logger(LogLevel::kOff);
  SnapshotterOptions options;
  options.root = root;
  options.overlay_index_off = false;
  auto snap = Snapshotter::Open(options, &logger);
  if (!snap) _exit(3);
  std::string parent;
  const std::string p = "r" + std::to_string(round) + "/";
  for (int i = 0;; ++i) {
    const std::string key = p + "k" + std::to_string(i);
    auto mounts = (*snap)->Prepare(key, parent, {{"i", std::to_string(i)}});
    if (!mounts) _exit(4);
    if (i == 0 && ::write(ready_fd, "r", 1) != 1) _exit(8);
    if (i % 3 == 2) {
      if (!(*snap)->Remove(key)) _exit(5);
    } else {
      if (!(*snap)->Commit(p + "l" + std::to_string(i), key, {})) _exit(6);
      parent = p + "l" + std::to_string(i);
    }
    if (i % 5 == 4 && !(*snap)->View(p + "v" + std::to_string(i), parent, {})) _exit(7);
    if (i % 20 == 19) parent.clear();
  }
}

TEST_F(RecoveryTest, KilledAtRandomPointsReopensConsistent) {
  std::mt19937 rng(12345);
  size_t last = 0;
  for (int round = 0; round < 8; ++round) {
    snap_.reset();  // the child needs the database lock
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) RunOperations(root(), round, ready[1]);
    ::close(ready[1]);
    char byte = 0;
    EXPECT_EQ(::read(ready[0], &byte, 1), 1);
    ::close(ready[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 120));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    Reopen();
    size_t n = CheckConsistent();
    EXPECT_GT(n, last) << "round " << round << " made no progress";
    last = n;
  }
  // Still fully usable: build on the last layer and clean everything up leaf first.
  ASSERT_TRUE(snap_->Prepare("final", "", {}).has_value());
  for (int pass = 0; pass < 100 && !snap_->List({})->empty(); ++pass) {
    auto all = snap_->List({});
    ASSERT_TRUE(all.has_value());
    for (const SnapshotInfo& info : *all) (void)snap_->Remove(info.name);
  }
  EXPECT_TRUE(snap_->List({})->empty());
  EXPECT_TRUE(DirEntries(root() + "/snapshots").empty());
}

}  // namespace
}  // namespace tessera::snapshotter
