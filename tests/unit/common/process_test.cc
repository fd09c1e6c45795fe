#include "tessera/common/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tessera/common/io.h"

namespace tessera {
namespace {

ChildProcess::Options Argv(std::vector<std::string> argv) {
  ChildProcess::Options o;
  o.argv = std::move(argv);
  return o;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(ProcessTest, TempDirRemovesEverything) {
  std::string path;
  {
    auto dir = TempDir::Create("proc_test");
    ASSERT_TRUE(dir);
    path = dir->path();
    ASSERT_EQ(::mkdir((path + "/a").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((path + "/a/b").c_str(), 0000), 0);
    ASSERT_TRUE(WriteFile(path + "/a/f", std::vector<uint8_t>{1}));
    ASSERT_EQ(::symlink("/etc", (path + "/a/link").c_str()), 0);
  }
  EXPECT_FALSE(Exists(path));
  EXPECT_TRUE(Exists("/etc/passwd"));  // the symlink target was not followed
}

TEST(ProcessTest, RunCommandCapturesOutputAndExitCode) {
  auto r = RunCommand({"sh", "-c", "echo hello; exit 3"});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "hello\n");
  auto missing = RunCommand({"/nonexistent/binary"});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->exit_code, 127);
}

TEST(ProcessTest, ChildProcessKilledOnDestruction) {
  pid_t pid;
  {
    auto child = ChildProcess::Spawn(Argv({"sleep", "60"}));
    ASSERT_TRUE(child);
    pid = child->pid();
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_EQ(::kill(pid, 0), -1);  // reaped: no such process
}

TEST(ProcessTest, ChildProcessWaitReportsSignal) {
  auto child = ChildProcess::Spawn(Argv({"sleep", "60"}));
  ASSERT_TRUE(child);
  ASSERT_TRUE(child->Signal(SIGTERM));
  auto code = child->Wait();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 128 + SIGTERM);
}

TEST(ProcessTest, MountGuardUnmountsTmpfs) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting tmpfs needs root";
  auto dir = TempDir::Create("mount_test");
  ASSERT_TRUE(dir);
  {
    auto guard = MountGuard::Mount("tmpfs", dir->path(), "tmpfs", 0, "size=1m");
    ASSERT_TRUE(guard) << guard.error().ToString();
    ASSERT_TRUE(WriteFile(dir->path() + "/inside", std::vector<uint8_t>{1}));
  }
  EXPECT_FALSE(Exists(dir->path() + "/inside"));  // the tmpfs is gone with its file
  auto bad = MountGuard::MountErofs(dir->path() + "/none.img", dir->path());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().context.find("none.img"), std::string::npos);
}

}  // namespace
}  // namespace tessera
