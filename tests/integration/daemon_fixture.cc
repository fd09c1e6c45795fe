#include "daemon_fixture.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace tessera::testing {
namespace {

constexpr const char* kUringParam = "/sys/module/fuse/parameters/enable_uring";

}  // namespace

void DaemonTest::SetUp() {
  BuilderTest::SetUp();
  if (IsSkipped()) return;
  if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/fuse is not usable";
  const char* uring = std::getenv("TESSERA_FUSE_URING");
  uring_run_ = uring != nullptr && std::string(uring) == "1";
  std::string why;
  if (uring_run_ && !EnableKernelUring(&why)) GTEST_SKIP() << why;
  boot_ = Path("image.boot");
  mnt_ = Path("mnt");
  cache_ = Path("cache");
  sock_ = Path("api.sock");
  ASSERT_TRUE(MakeDir(mnt_));
}

void DaemonTest::TearDown() {
  if (daemon_) {
    (void)daemon_->Signal(SIGTERM);
    for (int i = 0; i < 50 && Mounted(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    daemon_.reset();  // SIGKILL and reap if still running
  }
  if (Mounted()) ::umount2(mnt_.c_str(), MNT_DETACH);
  if (uring_saved_) std::ofstream(kUringParam) << *uring_saved_;
}

bool DaemonTest::EnableKernelUring(std::string* why) {
  std::ifstream in(kUringParam);
  char old = 0;
  if (!in.get(old)) {
    *why = std::string("this kernel has no FUSE over io_uring (no ") + kUringParam + ")";
    return false;
  }
  if (!uring_saved_) uring_saved_ = old;
  std::ofstream out(kUringParam);
  out << 'Y';
  out.close();
  if (!out) {
    *why = std::string("cannot write ") + kUringParam;
    return false;
  }
  return true;
}

std::string DaemonTest::BuildImage(const std::string& src, std::vector<std::string> extra) {
  return Create(src, boot_, std::move(extra)).blob_id;
}

bool DaemonTest::Mounted() const {
  std::ifstream in("/proc/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string dev, mp;
    fields >> dev >> mp;
    if (mp == mnt_) return true;
  }
  return false;
}

void DaemonTest::StartDaemon(std::vector<std::string> extra) {
  ChildProcess::Options o;
  o.argv = {BinPath("tesserad"),
            "--bootstrap",
            boot_,
            "--blob-dir",
            blobs_,
            "--mountpoint",
            mnt_,
            "--cache-dir",
            cache_,
            "--apisock",
            sock_,
            "--log-level",
            "info"};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.stderr_path = Path("tesserad.log");
  auto child = ChildProcess::Spawn(o);
  ASSERT_TRUE(child) << child.error().ToString();
  daemon_.emplace(std::move(*child));
  for (int i = 0; i < 100 && !Mounted(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::vector<uint8_t> log = ReadFile(Path("tesserad.log")).value_or({});
  ASSERT_TRUE(Mounted()) << "tesserad did not mount; log:\n" << std::string(log.begin(), log.end());
  bool supervised = std::find(extra.begin(), extra.end(), "--supervisor") != extra.end();
  if (uring_run_ && !supervised) {
    // The mount shows before the daemon has answered INIT and started its queues.
    std::string text;
    for (int i = 0; i < 60 && text.find("serving over io_uring") == std::string::npos; ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      log = ReadFile(Path("tesserad.log")).value_or({});
      text.assign(log.begin(), log.end());
    }
    EXPECT_NE(text.find("serving over io_uring"), std::string::npos) << "not over io_uring:\n"
                                                                     << text;
  }
}

void DaemonTest::StopDaemon() {
  ASSERT_TRUE(daemon_.has_value());
  ASSERT_TRUE(daemon_->Signal(SIGTERM));
  auto code = daemon_->Wait();
  daemon_.reset();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_FALSE(Mounted());
}

void DaemonTest::KillDaemon() {
  ASSERT_TRUE(daemon_.has_value());
  ASSERT_TRUE(daemon_->Signal(SIGKILL));
  (void)daemon_->Wait();
  daemon_.reset();
}

Result<std::vector<uint8_t>> DaemonTest::ReadAll(const std::string& path) const {
  return ReadFile(mnt_ + "/" + path);
}

std::string DaemonTest::Metrics() {
  auto r = RunCapture({BinPath("tesseractl"), "--apisock", sock_, "metrics"});
  if (!r || r->exit_code != 0) return "";
  return r->output;
}

double DaemonTest::MetricValue(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

}  // namespace tessera::testing
