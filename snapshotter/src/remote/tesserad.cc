#include "remote/tesserad.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "remote/detached.h"

#include "tessera/nydusd_client/client.h"
#include "tessera/oci/reference.h"

namespace tessera::snapshotter::internal {
namespace {

using nydusd::client::ApiClient;
using nydusd::client::ApiClientOptions;
using std::chrono::milliseconds;

std::string Sock(const std::string& dir) { return dir + "/api.sock"; }
std::string PidFile(const std::string& dir) { return dir + "/tesserad.pid"; }

pid_t ReadPid(const std::string& dir) {
  std::ifstream in(PidFile(dir));
  long pid = -1;
  if (!(in >> pid)) return -1;
  return static_cast<pid_t>(pid);
}

Status EnsureDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return ErrnoError(errno, "mkdir " + path);
  }
  return Ok();
}

std::string DefaultTesserad() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    std::string self(buf, static_cast<size_t>(n));
    std::string beside = self.substr(0, self.rfind('/') + 1) + "tesserad";
    if (::access(beside.c_str(), X_OK) == 0) return beside;
  }
  return "tesserad";
}

// Waits for pid to end; true if it did within the timeout.
bool WaitGone(pid_t pid, const std::string& needle, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ProcessAlive(pid, needle)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

}  // namespace

TesseradManager::TesseradManager(TesseradOptions options, Logger* logger)
    : options_(std::move(options)), logger_(logger) {
  if (options_.tesserad_path.empty()) options_.tesserad_path = DefaultTesserad();
}

TesseradManager::~TesseradManager() = default;

Status TesseradManager::StartSupervisor() {
  if (options_.supervisor_path.empty()) return Ok();
  TRY(supervisor_, nydusd::client::Supervisor::Listen(options_.supervisor_path, logger_));
  return Ok();
}

bool TesseradManager::Held(const std::string& mountpoint) const {
  return supervisor_ && supervisor_->Holds(mountpoint) && IsMountPoint(mountpoint);
}

void TesseradManager::DropHeld(const std::string& mountpoint) {
  if (supervisor_) supervisor_->Drop(mountpoint);
}

std::vector<std::string> TesseradManager::SupervisorFlags() const {
  if (!supervisor_) return {};
  return {"--supervisor", options_.supervisor_path};
}

bool TesseradManager::Healthy(const std::string& dir) {
  struct stat st {};
  if (::stat(Sock(dir).c_str(), &st) != 0) return false;
  ApiClient client(ApiClientOptions{.socket_path = Sock(dir), .timeout = milliseconds(3000)});
  auto mounts = client.ListMounts();
  if (!mounts) return false;
  bool served = false;
  for (const auto& m : *mounts) served = served || m.mountpoint == Mountpoint(dir);
  // No file-system call on the mount: with its daemon gone and the supervisor keeping the
  // connection, it would wait for a daemon that this very call is to start.
  return served && IsMountPoint(Mountpoint(dir));
}

void TesseradManager::StopKeepingMount(const std::string& dir, Logger* logger) {
  std::vector<pid_t> pids = ProcessesMentioning({"tesserad", "--apisock " + Sock(dir)});
  const pid_t pid = ReadPid(dir);
  if (pid > 0 && ProcessAlive(pid, Sock(dir))) pids.push_back(pid);
  for (pid_t p : pids) {
    logger->Warn("killing a broken tesserad", {{"pid", std::to_string(p)}});
    ::kill(p, SIGKILL);
    (void)WaitGone(p, Sock(dir), milliseconds(3000));
  }
  ::unlink(Sock(dir).c_str());
  ::unlink(PidFile(dir).c_str());
}

void TesseradManager::Stop(const std::string& dir, Logger* logger) {
  const pid_t pid = ReadPid(dir);
  struct stat st {};
  if (::stat(Sock(dir).c_str(), &st) == 0) {
    ApiClient client(ApiClientOptions{.socket_path = Sock(dir), .timeout = milliseconds(2000)});
    Status exited = client.Exit();
    if (!exited && exited.error().code != ErrorCode::kUnavailable) {
      logger->Warn("tesserad exit", {{"dir", dir}, {"error", exited.error().ToString()}});
    }
  }
  std::vector<pid_t> pids = ProcessesMentioning({"tesserad", "--apisock " + Sock(dir)});
  if (pid > 0 && ProcessAlive(pid, Sock(dir))) pids.push_back(pid);
  for (pid_t p : pids) {
    if (WaitGone(p, Sock(dir), milliseconds(5000))) continue;
    logger->Warn("tesserad did not exit; killing it", {{"pid", std::to_string(p)}});
    ::kill(p, SIGKILL);
    (void)WaitGone(p, Sock(dir), milliseconds(3000));
  }
  int detached = DetachMountsUnder(dir);
  if (detached > 0)
    logger->Info("detached mounts", {{"dir", dir}, {"count", std::to_string(detached)}});
  ::unlink(Sock(dir).c_str());
  ::unlink(PidFile(dir).c_str());
}

std::vector<std::string> TesseradManager::CommonFlags(const std::string& image) const {
  std::vector<std::string> argv;
  auto ref = oci::Reference::Parse(image);
  if (!image.empty() && ref && ref->IsLoopback() && options_.plain_http_loopback) {
    argv.push_back("--plain-http");
  }
  if (!options_.docker_config.empty()) {
    argv.insert(argv.end(), {"--docker-config", options_.docker_config});
  }
  if (options_.cache_limit > 0) {
    argv.insert(argv.end(), {"--cache-limit", std::to_string(options_.cache_limit)});
  }
  return argv;
}

void TesseradManager::Release(const std::string& dir) {
  DropHeld(Mountpoint(dir));
  if (options_.shared) {
    ReleaseShared(dir);
  } else {
    Stop(dir, logger_);
  }
}

Status TesseradManager::EnsureServed(const std::string& dir, const std::string& image) {
  if (options_.shared) return EnsureServedShared(dir, image);
  if (Healthy(dir)) return Ok();
  if (Held(Mountpoint(dir))) {
    logger_->Warn("tesserad gone; a new one takes over its mount",
                  {{"dir", dir}, {"image", image}});
    StopKeepingMount(dir, logger_);
    Status st = Start(dir, image);
    if (st) return st;
    logger_->Error("takeover failed; the mount is given up",
                   {{"dir", dir}, {"error", st.error().ToString()}});
  } else if (ReadPid(dir) > 0 || IsMountPoint(Mountpoint(dir))) {
    logger_->Warn("tesserad gone or its mount broken; restarting",
                  {{"dir", dir}, {"image", image}});
  }
  DropHeld(Mountpoint(dir));
  Stop(dir, logger_);
  Status st = Start(dir, image);
  if (!st) Stop(dir, logger_);
  return st;
}

Status TesseradManager::Start(const std::string& dir, const std::string& image) {
  RETURN_IF_ERROR(EnsureDir(Mountpoint(dir), 0755));
  RETURN_IF_ERROR(EnsureDir(dir + "/cache", 0700));
  std::vector<std::string> argv = {options_.tesserad_path, "--image",       image,
                                   "--mountpoint",         Mountpoint(dir), "--cache-dir",
                                   dir + "/cache",         "--apisock",     Sock(dir)};
  for (const std::string& flag : CommonFlags(image)) argv.push_back(flag);
  for (const std::string& flag : SupervisorFlags()) argv.push_back(flag);
  const std::string log = dir + "/tesserad.log";
  TRY(pid_t pid, SpawnDetached(argv, log));
  {
    std::ofstream out(PidFile(dir), std::ios::trunc);
    out << pid << "\n";
  }
  logger_->Info("started tesserad", {{"image", image}, {"pid", std::to_string(pid)}});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!Healthy(dir)) {
    if (!ProcessAlive(pid, "") || std::chrono::steady_clock::now() > deadline) {
      return MakeError(ErrorCode::kUnavailable,
                       "tesserad for " + image + " did not come up: " + LastLine(log));
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return Ok();
}

}  // namespace tessera::snapshotter::internal
