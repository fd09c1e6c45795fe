// Detached daemons: started in their own session, found again by command line, killed by pid.
#include "remote/detached.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "tessera/common/process.h"

namespace tessera::snapshotter::internal {
namespace {

TEST(Detached, SpawnsFindsAndKills) {
  auto dir = TempDir::Create("tessera-detached");
  ASSERT_TRUE(dir.has_value());
  const std::string marker = dir->path() + "/marker";
  auto pid =
      SpawnDetached({"sh", "-c", "echo started; exec sleep 30", marker}, dir->path() + "/log");
  ASSERT_TRUE(pid.has_value()) << pid.error().ToString();
  // Not our child: a new session, reparented away from us.
  EXPECT_NE(::getsid(*pid), ::getsid(0));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // "started" is logged before the exec: wait for both.
  while ((LastLine(dir->path() + "/log") != "started" || !ProcessAlive(*pid, "sleep 30")) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(ProcessAlive(*pid, "sleep 30"));
  EXPECT_FALSE(ProcessAlive(*pid, "not in its command line"));
  EXPECT_EQ(LastLine(dir->path() + "/log"), "started");
  ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  while (ProcessAlive(*pid, "") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(ProcessAlive(*pid, ""));
}

TEST(Detached, MissingProgramExitsWithoutHarm) {
  auto dir = TempDir::Create("tessera-detached");
  ASSERT_TRUE(dir.has_value());
  auto pid = SpawnDetached({"/nonexistent/tesserad"}, dir->path() + "/log");
  ASSERT_TRUE(pid.has_value());  // fork worked; exec fails in the child, which exits 127
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ProcessAlive(*pid, "") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(ProcessAlive(*pid, ""));
  EXPECT_FALSE(SpawnDetached({}, dir->path() + "/log").has_value());
}

TEST(Detached, MountsUnderListsProcMounts) {
  EXPECT_TRUE(IsMountPoint("/proc"));
  EXPECT_FALSE(IsMountPoint("/proc/self"));
  EXPECT_TRUE(MountsUnder("/nonexistent-dir-of-tessera").empty());
  EXPECT_EQ(LastLine("/nonexistent-file-of-tessera"), "");
}

}  // namespace
}  // namespace tessera::snapshotter::internal
