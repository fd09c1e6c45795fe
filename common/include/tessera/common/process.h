// RAII for the OS resources tests and daemons hold: child processes, mounts, temporary
// directories and scope-exit actions.
//
// Thread-safety: move-only values, used from one thread.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "tessera/common/result.h"

namespace tessera {

// Runs a function when the scope ends unless dismissed.
class ScopeExit {
 public:
  explicit ScopeExit(std::function<void()> fn) : fn_(std::move(fn)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ~ScopeExit() {
    if (fn_) fn_();
  }
  void Dismiss() { fn_ = nullptr; }

 private:
  std::function<void()> fn_;
};

// A directory created under $TMPDIR (or /tmp) and removed recursively on destruction.
class TempDir {
 public:
  static Result<TempDir> Create(const std::string& prefix = "tessera");
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Removes a path and everything below it; does not follow symlinks and does not cross into
// other mounts (a mount point below it is lazily unmounted first).
Status RemoveTree(const std::string& path);

// Unmounts (lazily, MNT_DETACH) on destruction unless released.
class MountGuard {
 public:
  MountGuard() = default;
  explicit MountGuard(std::string mountpoint) : mountpoint_(std::move(mountpoint)) {}
  MountGuard(MountGuard&& other) noexcept : mountpoint_(std::move(other.mountpoint_)) {
    other.mountpoint_.clear();
  }
  MountGuard& operator=(MountGuard&& other) noexcept;
  MountGuard(const MountGuard&) = delete;
  MountGuard& operator=(const MountGuard&) = delete;
  ~MountGuard() { (void)Unmount(); }

  // mount(2) of an EROFS image file (file-backed, read-only) with one device= per extra device.
  static Result<MountGuard> MountErofs(const std::string& image, const std::string& mountpoint,
                                       const std::vector<std::string>& devices = {});
  // mount(2) of any filesystem.
  static Result<MountGuard> Mount(const std::string& source, const std::string& mountpoint,
                                  const std::string& fstype, unsigned long flags,
                                  const std::string& options);

  const std::string& mountpoint() const { return mountpoint_; }
  // Unmounts now; ok if nothing is mounted.
  Status Unmount();
  void Release() { mountpoint_.clear(); }

 private:
  std::string mountpoint_;
};

// Result of RunCommand: the exit code (128+signal if killed) and everything written to stdout.
struct RunOutput {
  int exit_code = -1;
  std::string out;
};

// A child process started with fork/exec; killed (SIGKILL) and reaped on destruction unless
// already waited for.
class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;
    std::vector<std::string> env_extra;  // "KEY=VALUE" added to the inherited environment
    std::string stdout_path;             // empty: inherit
    std::string stderr_path;             // empty: inherit
  };
  static Result<ChildProcess> Spawn(const Options& options);
  ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  Status Signal(int sig) const;
  // Waits for exit; returns the exit status (128+signal if killed).
  Result<int> Wait();

 private:
  friend Result<RunOutput> RunCommand(const std::vector<std::string>& argv);
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// Runs argv (PATH is searched) to completion, capturing stdout; stderr is inherited.
Result<RunOutput> RunCommand(const std::vector<std::string>& argv);

}  // namespace tessera
