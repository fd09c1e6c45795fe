// The supervisor protocol with a pipe standing in for /dev/fuse: a held descriptor is the same
// open file the daemon registered, it survives the daemon's link going away, it is dropped on
// request, and a link registers again with a restarted supervisor.
#include "tessera/nydusd_client/supervisor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tessera/common/process.h"

namespace tessera::nydusd::client {
namespace {

using std::chrono::milliseconds;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("supervisor_test");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    read_end_.Reset(fds[0]);
    write_end_.Reset(fds[1]);
    Listen();
  }
  void Listen() {
    auto sup = Supervisor::Listen(Sock(), &logger_);
    ASSERT_TRUE(sup) << sup.error().ToString();
    supervisor_ = std::move(*sup);
  }
  std::string Sock() const { return dir_->path() + "/sup.sock"; }
  bool WaitHeld(const std::string& mp, bool held) {
    for (int i = 0; i < 100; ++i) {
      if (supervisor_->Holds(mp) == held) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }
  // Writes through `fd` and reads it back from the pipe: true if fd is our pipe's write end.
  bool IsOurPipe(int fd) {
    const char out = 'x';
    char in = 0;
    return ::write(fd, &out, 1) == 1 && ::read(read_end_.get(), &in, 1) == 1 && in == out;
  }

  Logger logger_{LogLevel::kOff};
  std::unique_ptr<TempDir> dir_;
  UniqueFd read_end_, write_end_;
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(SupervisorTest, HoldsTheRegisteredDescriptorAfterTheDaemonIsGone) {
  {
    SupervisorLink link(Sock(), &logger_);
    link.Hold("/mnt/a", write_end_.get(), "INIT-BYTES");
    ASSERT_TRUE(WaitHeld("/mnt/a", true));
  }  // the daemon's side is gone (as after a crash): the supervisor keeps the connection
  write_end_.Reset();
  EXPECT_EQ(supervisor_->Held(), std::vector<std::string>{"/mnt/a"});
  auto got = FetchHeldConnection(Sock(), "/mnt/a");
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->init_request, "INIT-BYTES");
  EXPECT_TRUE(IsOurPipe((*got)->fuse_fd.get()));
  auto none = FetchHeldConnection(Sock(), "/mnt/other");
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_FALSE(none->has_value());
}

TEST_F(SupervisorTest, DropClosesTheHeldDescriptor) {
  SupervisorLink link(Sock(), &logger_);
  link.Hold("/mnt/a", write_end_.get(), "I");
  ASSERT_TRUE(WaitHeld("/mnt/a", true));
  link.Drop("/mnt/a");
  ASSERT_TRUE(WaitHeld("/mnt/a", false));
  supervisor_->Drop("/mnt/none");  // unknown: no-op
  // Only our own write end is left: closing it gives the reader end-of-file.
  write_end_.Reset();
  char c;
  EXPECT_EQ(::read(read_end_.get(), &c, 1), 0);
}

TEST_F(SupervisorTest, LinkRegistersAgainWithARestartedSupervisor) {
  SupervisorLink link(Sock(), &logger_);
  link.Hold("/mnt/a", write_end_.get(), "I");
  link.Hold("/mnt/b", write_end_.get(), "J");
  ASSERT_TRUE(WaitHeld("/mnt/b", true));
  supervisor_.reset();
  Listen();
  ASSERT_TRUE(WaitHeld("/mnt/a", true));
  ASSERT_TRUE(WaitHeld("/mnt/b", true));
  auto got = FetchHeldConnection(Sock(), "/mnt/b");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->init_request, "J");
}

TEST_F(SupervisorTest, FetchWithoutSupervisorIsUnavailable) {
  supervisor_.reset();
  auto got = FetchHeldConnection(Sock(), "/mnt/a");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kUnavailable) << got.error().ToString();
}

TEST_F(SupervisorTest, MountpointWithNewlineIsRefused) {
  SupervisorLink link(Sock(), &logger_);
  link.Hold("/mnt/a\nHOLD", write_end_.get(), "I");
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_TRUE(supervisor_->Held().empty());
  auto got = FetchHeldConnection(Sock(), "/x\ny");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::nydusd::client
