// tessera-snapshotter behind a real containerd 1.6 (proxy plugin): import a two-layer busybox
// image, run a container with runc, list and measure the snapshots, remove everything, survive
// kill -9, and behave like containerd's own overlayfs snapshotter on the same image.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "support/containerd_server.h"
#include "support/test_env.h"

namespace tessera::testing {
namespace {

constexpr char kImage[] = "bb:latest";
constexpr char kScript[] = "cat /etc/x; cat /etc/added; ls /etc/removed 2>/dev/null || echo gone";
constexpr char kExpected[] = "changed\nnew\ngone\n";

struct SnapshotRow {
  std::string parent, kind;
};

class SnapshotterContainerdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = TempDir::Create("tessera-bb-image");
    ASSERT_TRUE(dir.has_value());
    image_dir_ = new TempDir(std::move(*dir));
    Status st = BuildBusyboxArchive(image_dir_->path() + "/work", Archive());
    ASSERT_TRUE(st.has_value()) << st.error().ToString();
  }
  static void TearDownTestSuite() {
    delete image_dir_;
    image_dir_ = nullptr;
  }
  static std::string Archive() { return image_dir_->path() + "/bb.tar"; }

  void SetUp() override {
    for (const char* p : {"containerd", "ctr", "runc", "umoci", "busybox"}) {
      if (auto why = MissingProgram(p)) GTEST_SKIP() << *why;
    }
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (containerd, mounts)";
    if (image_dir_ == nullptr || !std::filesystem::exists(Archive())) GTEST_FAIL() << "no image";
    auto server = ContainerdServer::Start();
    ASSERT_TRUE(server.has_value()) << server.error().ToString();
    server_ = std::move(*server);
  }
  void TearDown() override {
    if (HasFailure() && server_) {
      std::cerr << "--- snapshotter log ---\n" << server_->SnapshotterLog();
    }
    server_.reset();
  }

  CommandResult Ctr(const std::vector<std::string>& args) {
    auto r = server_->Ctr(args);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(CommandResult{});
  }
  void CtrOk(const std::vector<std::string>& args) {
    CommandResult r = Ctr(args);
    ASSERT_EQ(r.exit_code, 0) << Describe(args, r);
  }
  void Import(const std::string& snapshotter = "tessera") {
    CtrOk({"images", "import", "--snapshotter", snapshotter, "--index-name", kImage, Archive()});
  }
  std::string Run(const std::string& id, const std::string& snapshotter = "tessera") {
    std::vector<std::string> args = {"run", "--rm", "--snapshotter", snapshotter};
    for (const auto& f : server_->RunFlags()) args.push_back(f);
    args.insert(args.end(), {kImage, id, "sh", "-c", kScript});
    CommandResult r = Ctr(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(args, r);
    return r.output;
  }
  // `ctr snapshots ls`: key -> parent and kind.
  std::map<std::string, SnapshotRow> Snapshots(const std::string& snapshotter = "tessera") {
    CommandResult r = Ctr({"snapshots", "--snapshotter", snapshotter, "ls"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::map<std::string, SnapshotRow> out;
    std::istringstream lines(r.output);
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
      std::istringstream f(line);
      std::string key, a, b;
      f >> key >> a >> b;
      if (key.empty()) continue;
      out[key] = b.empty() ? SnapshotRow{"", a} : SnapshotRow{a, b};
    }
    return out;
  }
  // `ctr snapshots usage`: key -> "SIZE INODES" as printed.
  std::map<std::string, std::string> Usage(const std::string& snapshotter) {
    CommandResult r = Ctr({"snapshots", "--snapshotter", snapshotter, "usage"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::map<std::string, std::string> out;
    std::istringstream lines(r.output);
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line)) {
      std::istringstream f(line);
      std::string key, size, unit, inodes;
      if (f >> key >> size >> unit >> inodes) out[key] = size + unit + " " + inodes;
    }
    return out;
  }
  void RemoveAllImages() {
    CommandResult ls = Ctr({"images", "ls", "-q"});
    std::istringstream names(ls.output);
    for (std::string n; names >> n;) CtrOk({"images", "rm", "--sync", n});
  }
  // Runs containerd's garbage collector now and waits for it. containerd 1.6 removes backend
  // snapshots only there, and its scheduler drops a deletion that commits while a collection is
  // finishing: `snapshots rm` waits for the snapshotter's cleanup to release its lock, commits,
  // and stamps its event before the collection's end, so the scheduler ignores it and, until
  // another deletion, never asks us to remove that snapshot (gc/scheduler.go, 1.6.20). Deleting
  // a throwaway lease with --sync is such a deletion.
  void CollectGarbage() {
    CtrOk({"leases", "create", "--id", "tessera-test-gc"});
    CtrOk({"leases", "rm", "--sync", "tessera-test-gc"});
  }
  // Polls `done` for up to 60 s, collecting garbage between polls.
  template <typename F>
  bool CollectUntil(F done) {
    for (int i = 0; i < 300 && !done(); ++i) {
      CollectGarbage();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
  }
  std::vector<std::string> SnapshotDirs() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e :
         std::filesystem::directory_iterator(server_->snapshotter_root() + "/snapshots", ec)) {
      out.push_back(e.path().filename().string());
    }
    return out;
  }

  static TempDir* image_dir_;
  std::unique_ptr<ContainerdServer> server_;
};

TempDir* SnapshotterContainerdTest::image_dir_ = nullptr;

TEST_F(SnapshotterContainerdTest, ImportRunListAndRemove) {
  Import();
  auto snaps = Snapshots();
  ASSERT_EQ(snaps.size(), 2u) << Ctr({"snapshots", "--snapshotter", "tessera", "ls"}).output;
  int with_parent = 0;
  for (const auto& [key, row] : snaps) {
    EXPECT_EQ(row.kind, "Committed") << key;
    if (!row.parent.empty()) {
      ++with_parent;
      EXPECT_TRUE(snaps.contains(row.parent)) << row.parent;
    }
  }
  EXPECT_EQ(with_parent, 1);
  EXPECT_EQ(Run("c1"), kExpected);
  EXPECT_EQ(Run("c2"), kExpected);  // the layers are shared, the container layer is new
  EXPECT_EQ(Usage("tessera").size(), 2u);

  RemoveAllImages();
  EXPECT_TRUE(CollectUntil([&] { return Snapshots().empty(); }));
  CtrOk({"content", "prune", "references"});
  EXPECT_TRUE(CollectUntil([&] { return SnapshotDirs().empty(); })) << SnapshotDirs().size();
  EXPECT_TRUE(server_->MountsBelow().empty());
}

TEST_F(SnapshotterContainerdTest, KillNineRestartsConsistent) {
  Import();
  auto before = Snapshots();
  ASSERT_EQ(before.size(), 2u);
  // An active snapshot of our own, prepared through containerd.
  std::string top;
  for (const auto& [key, row] : before) {
    if (!row.parent.empty()) top = key;
  }
  CtrOk({"snapshots", "--snapshotter", "tessera", "prepare", "scratch", top});
  auto with_active = Snapshots();
  ASSERT_EQ(with_active.size(), 3u);
  EXPECT_EQ(with_active["scratch"].kind, "Active");

  ASSERT_TRUE(server_->KillSnapshotter().has_value());
  ASSERT_TRUE(server_->StartSnapshotter().has_value());
  ASSERT_TRUE(server_->WaitForProxy().has_value());
  auto after = Snapshots();
  ASSERT_EQ(after.size(), 3u);
  for (const auto& [key, row] : with_active) {
    EXPECT_EQ(after[key].kind, row.kind) << key;
    EXPECT_EQ(after[key].parent, row.parent) << key;
  }
  CommandResult mounts =
      Ctr({"snapshots", "--snapshotter", "tessera", "mounts", "/mnt", "scratch"});
  EXPECT_EQ(mounts.exit_code, 0) << mounts.output;
  EXPECT_NE(mounts.output.find("lowerdir="), std::string::npos) << mounts.output;
  EXPECT_EQ(Run("after-restart"), kExpected);

  // Containerd's rules reach us intact: a parent cannot go, a leaf can.
  EXPECT_NE(Ctr({"snapshots", "--snapshotter", "tessera", "rm", top}).exit_code, 0);
  CtrOk({"snapshots", "--snapshotter", "tessera", "rm", "scratch"});
  // containerd removes backend snapshots in its garbage collector, asynchronously; `rm scratch`
  // can land while the collection for "after-restart" (removed by `run --rm`) is running.
  EXPECT_TRUE(CollectUntil([&] { return SnapshotDirs().size() == 2; }));
  EXPECT_EQ(SnapshotDirs().size(), 2u);
  EXPECT_EQ(Snapshots().size(), 2u);
}

TEST_F(SnapshotterContainerdTest, BehavesLikeContainerdOverlayfs) {
  Import("overlayfs");
  Import("tessera");
  auto ours = Snapshots("tessera");
  auto theirs = Snapshots("overlayfs");
  ASSERT_EQ(ours.size(), theirs.size());
  for (const auto& [key, row] : theirs) {
    ASSERT_TRUE(ours.contains(key)) << key;
    EXPECT_EQ(ours[key].parent, row.parent) << key;
    EXPECT_EQ(ours[key].kind, row.kind) << key;
  }
  EXPECT_EQ(Usage("tessera"), Usage("overlayfs"));
  EXPECT_EQ(Run("ours", "tessera"), Run("theirs", "overlayfs"));
}

TEST_F(SnapshotterContainerdTest, RunningContainerOutlivesSnapshotterKill) {
  Import();
  std::vector<std::string> run = {"run", "-d", "--snapshotter", "tessera"};
  for (const auto& f : server_->RunFlags()) run.push_back(f);
  run.insert(run.end(), {kImage, "long", "sh", "-c", "while true; do sleep 1; done"});
  CtrOk(run);
  ASSERT_TRUE(server_->KillSnapshotter().has_value());
  // The rootfs is a kernel overlay of our directories: it does not need the process.
  const std::vector<std::string> exec = {
      "tasks", "exec", "--fifo-dir", server_->dir() + "/fifo", "--exec-id", "e1", "long",
      "sh",    "-c",   kScript};
  CommandResult r = Ctr(exec);
  EXPECT_EQ(r.exit_code, 0) << Describe(exec, r);
  EXPECT_EQ(r.output, kExpected);
  ASSERT_TRUE(server_->StartSnapshotter().has_value());
  ASSERT_TRUE(server_->WaitForProxy().has_value());
  EXPECT_EQ(Snapshots()["long"].kind, "Active");
  EXPECT_EQ(Run("second"), kExpected);
  CtrOk({"tasks", "kill", "-s", "SIGKILL", "long"});
  // delete succeeds once the task has stopped.
  for (int i = 0; i < 100 && Ctr({"tasks", "delete", "long"}).exit_code != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CtrOk({"containers", "rm", "long"});
  EXPECT_TRUE(server_->MountsBelow().empty());
}

}  // namespace
}  // namespace tessera::testing
