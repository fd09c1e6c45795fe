// A supervisor keeps tesserad's FUSE connection across a crash: a new daemon takes the
// connection over, the mount never goes away, and readers (also of files opened before the
// crash, also with requests in flight at the kill) get the right bytes and no error.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "daemon_fixture.h"
#include "support/data_gen.h"

#include "tessera/nydusd_client/supervisor.h"

namespace tessera::testing {
namespace {

using nydusd::client::Supervisor;
using std::chrono::milliseconds;

constexpr int kFiles = 24;
constexpr uint64_t kFileSize = 3 << 20;

std::string FileName(int i) { return "f" + std::to_string(i); }

// True once pid has exited (a zombie waiting to be reaped), polling up to `timeout`.
bool ExitsWithin(pid_t pid, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    size_t close = line.rfind(')');
    if (close == std::string::npos || line.compare(close + 2, 1, "Z") == 0) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

// Reads every file again and again (dropping the page cache between passes, so requests reach
// the daemon) and compares each with its generated content.
class Readers {
 public:
  Readers(std::string mnt, int threads) : mnt_(std::move(mnt)) {
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this, t] { Loop(t); });
  }
  ~Readers() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& th : threads_) {
      if (th.joinable()) th.join();
    }
  }
  std::atomic<int> errors{0}, mismatches{0};
  std::atomic<uint64_t> files_read{0};

 private:
  void Loop(int t) {
    for (int pass = 0; !stop_; ++pass) {
      for (int i = t; i < kFiles && !stop_; i += static_cast<int>(threads_.size() + 1)) {
        auto got = ReadFile(mnt_ + "/" + FileName(i));
        if (!got) {
          ++errors;
          continue;
        }
        if (*got != MakeContent(ContentKind::kRandom, static_cast<uint64_t>(i), kFileSize)) {
          ++mismatches;
        }
        ++files_read;
      }
      std::ofstream("/proc/sys/vm/drop_caches") << "1";
    }
  }
  std::string mnt_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

class DaemonTakeoverTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (IsSkipped()) return;
    std::string src = Path("src");
    ASSERT_TRUE(MakeDir(src));
    for (int i = 0; i < kFiles; ++i) {
      ASSERT_TRUE(WriteContentFile(src + "/" + FileName(i), kFileSize, ContentKind::kRandom,
                                   static_cast<uint64_t>(i)));
    }
    BuildImage(src, {"--chunk-size", "64K"});
    auto sup = Supervisor::Listen(Path("supervisor.sock"), &logger_);
    ASSERT_TRUE(sup) << sup.error().ToString();
    supervisor_ = std::move(*sup);
  }
  void TearDown() override {
    readers_.reset();
    // Without a daemon, the held descriptor is what keeps blocked readers waiting: close it.
    supervisor_.reset();
    DaemonTest::TearDown();
  }
  void StartSupervised() {
    StartDaemon({"--supervisor", Path("supervisor.sock")});
    ASSERT_TRUE(WaitHeld(true)) << "the supervisor was not given the connection";
  }
  bool WaitHeld(bool held) {
    for (int i = 0; i < 100; ++i) {
      if (supervisor_->Holds(mnt_) == held) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }
  std::string Log() {
    auto log = ReadFile(Path("tesserad.log"));
    return log ? std::string(log->begin(), log->end()) : "";
  }

  Logger logger_{LogLevel::kError};
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<Readers> readers_;
};

TEST_F(DaemonTakeoverTest, KilledDaemonIsReplacedWithoutUnmounting) {
  StartSupervised();
  // A file opened before the crash, read after it.
  UniqueFd early(::open((mnt_ + "/" + FileName(0)).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(early.valid());
  readers_ = std::make_unique<Readers>(mnt_, 4);
  std::this_thread::sleep_for(milliseconds(400));
  KillDaemon();
  ASSERT_TRUE(Mounted()) << "the mount went away with the daemon";
  const uint64_t before = readers_->files_read;
  std::this_thread::sleep_for(milliseconds(300));  // readers now wait for a daemon
  ::truncate(Path("tesserad.log").c_str(), 0);
  StartDaemon({"--supervisor", Path("supervisor.sock")});
  std::this_thread::sleep_for(milliseconds(1500));
  readers_->Stop();
  EXPECT_EQ(readers_->errors, 0);
  EXPECT_EQ(readers_->mismatches, 0);
  EXPECT_GT(readers_->files_read, before) << "no read completed after the restart";
  EXPECT_NE(Log().find("took over the connection"), std::string::npos) << Log();
  // Requests the killed daemon had read were queued again (FUSE_NOTIFY_RESEND, Linux >= 6.9).
  EXPECT_EQ(Log().find("not resent"), std::string::npos) << Log();
  std::vector<uint8_t> buf(kFileSize);
  ssize_t n = ::pread(early.get(), buf.data(), buf.size(), 0);
  ASSERT_EQ(n, static_cast<ssize_t>(kFileSize)) << std::strerror(errno);
  EXPECT_TRUE(buf == MakeContent(ContentKind::kRandom, 0, kFileSize));
  early.Reset();
  // A clean stop hands nothing back: the supervisor drops the connection and the mount goes.
  StopDaemon();
  EXPECT_TRUE(WaitHeld(false));
}

TEST_F(DaemonTakeoverTest, DaemonRegistersAgainWithARestartedSupervisor) {
  StartSupervised();
  supervisor_.reset();
  auto sup = Supervisor::Listen(Path("supervisor.sock"), &logger_);
  ASSERT_TRUE(sup) << sup.error().ToString();
  supervisor_ = std::move(*sup);
  ASSERT_TRUE(WaitHeld(true)) << "the daemon did not register with the new supervisor\n" << Log();
  KillDaemon();
  StartDaemon({"--supervisor", Path("supervisor.sock")});
  auto got = ReadAll(FileName(5));
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_TRUE(*got == MakeContent(ContentKind::kRandom, 5, kFileSize));
  StopDaemon();
}

TEST_F(DaemonTakeoverTest, WithoutSupervisorACrashEndsTheMountWithEnotconn) {
  StartDaemon();
  KillDaemon();
  auto got = ReadAll(FileName(1));
  ASSERT_FALSE(got) << "read succeeded with no daemon";
  // ECONNABORTED when the connection was served over io_uring (its teardown aborts it).
  int err = got.error().sys_errno;
  EXPECT_TRUE(err == ENOTCONN || err == ECONNABORTED) << got.error().ToString();
}

TEST_F(DaemonTakeoverTest, SigtermExitsEvenWithFilesOpenOnADetachedMount) {
  StartDaemon();
  UniqueFd open_file(::open((mnt_ + "/" + FileName(2)).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(open_file.valid());
  ASSERT_EQ(::umount2(mnt_.c_str(), MNT_DETACH), 0);
  ASSERT_TRUE(daemon_->Signal(SIGTERM));
  ASSERT_TRUE(ExitsWithin(daemon_->pid(), milliseconds(10000))) << "SIGTERM did not end tesserad";
  auto code = daemon_->Wait();
  daemon_.reset();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << Log();
  char c;
  EXPECT_LT(::pread(open_file.get(), &c, 1, 1 << 20), 0) << "the connection was not ended";
}

}  // namespace
}  // namespace tessera::testing
