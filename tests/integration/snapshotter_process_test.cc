// The tessera-snapshotter process itself: it serves on its socket, stops cleanly on SIGTERM
// (exit 0, socket removed), replaces a stale socket, refuses a root another instance holds and
// reports usage errors with exit 2.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "support/test_env.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::testing {
namespace {

bool Answers(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

bool WaitAnswers(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    if (Answers(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class SnapshotterProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = MissingProgram("tessera-snapshotter")) GTEST_SKIP() << *why;
    auto dir = TempDir::Create("snapshotter-process");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
  }
  std::string Sock() const { return dir_->path() + "/run/snap.sock"; }
  Result<ChildProcess> Start(const std::string& log) const {
    ChildProcess::Options o;
    o.argv = {BinPath("tessera-snapshotter"), "--root", dir_->path() + "/root", "--address",
              Sock()};
    o.stdout_path = o.stderr_path = dir_->path() + "/" + log;
    return ChildProcess::Spawn(o);
  }

  std::optional<TempDir> dir_;
};

TEST_F(SnapshotterProcessTest, ServesAndStopsCleanlyOnSigterm) {
  auto child = Start("a.log");
  ASSERT_TRUE(child.has_value());
  ASSERT_TRUE(WaitAnswers(Sock()));
  EXPECT_EQ(std::filesystem::status(Sock()).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::group_write);
  ASSERT_TRUE(child->Signal(SIGTERM).has_value());
  auto status = child->Wait();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  EXPECT_FALSE(std::filesystem::exists(Sock()));
  EXPECT_TRUE(std::filesystem::is_directory(dir_->path() + "/root/snapshots"));
}

TEST_F(SnapshotterProcessTest, ReplacesStaleSocketAndRefusesAHeldRoot) {
  auto first = Start("first.log");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(WaitAnswers(Sock()));
  // A second instance on the same root cannot take the metadata lock.
  auto second = Start("second.log");
  ASSERT_TRUE(second.has_value());
  auto status = second->Wait();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 1);
  EXPECT_TRUE(Answers(Sock()));  // the first one still serves
  // Killed: the socket file stays behind; a restart replaces it.
  ASSERT_TRUE(first->Signal(SIGKILL).has_value());
  (void)first->Wait();
  ASSERT_TRUE(std::filesystem::exists(Sock()));
  auto third = Start("third.log");
  ASSERT_TRUE(third.has_value());
  EXPECT_TRUE(WaitAnswers(Sock()));
}

TEST_F(SnapshotterProcessTest, UsageErrorsExitTwo) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--root", "relative"}, std::vector<std::string>{"--bogus"},
        std::vector<std::string>{"--config", "/nonexistent"}}) {
    args.insert(args.begin(), BinPath("tessera-snapshotter"));
    auto r = RunCapture(args);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->exit_code, 2) << Describe(args, *r);
    EXPECT_NE(r->output.find("tessera-snapshotter:"), std::string::npos) << r->output;
  }
}

}  // namespace
}  // namespace tessera::testing
