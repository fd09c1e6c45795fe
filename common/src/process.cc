#include "tessera/common/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tessera/common/io.h"

extern char** environ;

namespace tessera {

// ---- TempDir ----------------------------------------------------------------------------

Result<TempDir> TempDir::Create(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string templ =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + ".XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return ErrnoError(errno, "mkdtemp " + templ);
  return TempDir(templ);
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) (void)RemoveTree(path_);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)RemoveTree(path_);
}

namespace {

Status RemoveAt(int parent_fd, const std::string& name, const std::string& path, dev_t dev);

Status RemoveChildren(int dir_fd, const std::string& path, dev_t dev) {
  int dup_fd = ::dup(dir_fd);
  if (dup_fd < 0) return ErrnoError(errno, "dup " + path);
  DIR* dir = ::fdopendir(dup_fd);
  if (dir == nullptr) {
    ::close(dup_fd);
    return ErrnoError(errno, "opendir " + path);
  }
  std::vector<std::string> names;
  while (struct dirent* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(dir);
  Status result;
  for (const auto& name : names) {
    Status st = RemoveAt(dir_fd, name, path + "/" + name, dev);
    if (!st && result) result = st;
  }
  return result;
}

Status RemoveAt(int parent_fd, const std::string& name, const std::string& path, dev_t dev) {
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Ok() : ErrnoError(errno, "stat " + path);
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev) {
      // A mount point below the tree: detach it rather than deleting the mounted files.
      if (::umount2(path.c_str(), MNT_DETACH) != 0) return ErrnoError(errno, "umount " + path);
    } else {
      int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return ErrnoError(errno, "open " + path);
      UniqueFd guard(fd);
      RETURN_IF_ERROR(RemoveChildren(fd, path, dev));
    }
    if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return ErrnoError(errno, "rmdir " + path);
    }
    return Ok();
  }
  if (::unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return ErrnoError(errno, "unlink " + path);
  }
  return Ok();
}

}  // namespace

Status RemoveTree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Ok() : ErrnoError(errno, "stat " + path);
  }
  return RemoveAt(AT_FDCWD, path, path, st.st_dev);
}

// ---- MountGuard --------------------------------------------------------------------------

MountGuard& MountGuard::operator=(MountGuard&& other) noexcept {
  if (this != &other) {
    (void)Unmount();
    mountpoint_ = std::move(other.mountpoint_);
    other.mountpoint_.clear();
  }
  return *this;
}

Result<MountGuard> MountGuard::Mount(const std::string& source, const std::string& mountpoint,
                                     const std::string& fstype, unsigned long flags,
                                     const std::string& options) {
  if (::mount(source.c_str(), mountpoint.c_str(), fstype.c_str(), flags,
              options.empty() ? nullptr : options.c_str()) != 0) {
    return ErrnoError(errno, "mount " + fstype + " " + source + " on " + mountpoint +
                                 (options.empty() ? "" : " (" + options + ")"));
  }
  return MountGuard(mountpoint);
}

Result<MountGuard> MountGuard::MountErofs(const std::string& image, const std::string& mountpoint,
                                          const std::vector<std::string>& devices) {
  std::string options;
  for (const auto& dev : devices) {
    if (!options.empty()) options += ",";
    options += "device=" + dev;
  }
  return Mount(image, mountpoint, "erofs", MS_RDONLY, options);
}

Status MountGuard::Unmount() {
  if (mountpoint_.empty()) return Ok();
  std::string mp = std::move(mountpoint_);
  mountpoint_.clear();
  if (::umount2(mp.c_str(), 0) == 0) return Ok();
  // Busy (a reader still holds it) or already gone: detach lazily so nothing hangs.
  if (::umount2(mp.c_str(), MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT) return Ok();
  return ErrnoError(errno, "umount " + mp);
}

// ---- ChildProcess ------------------------------------------------------------------------

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
}

namespace {

// Runs in the child after fork: only async-signal-safe calls.
[[noreturn]] void ExecChild(char* const* argv, char* const* envp, int out_fd, int err_fd) {
  if (out_fd >= 0) ::dup2(out_fd, 1);
  if (err_fd >= 0) ::dup2(err_fd, 2);
  ::execvpe(argv[0], argv, envp);
  ::_exit(127);
}

Result<UniqueFd> OpenOutput(const std::string& path) {
  if (path.empty()) return UniqueFd();
  return UniqueFd::Open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
}

}  // namespace

Result<ChildProcess> ChildProcess::Spawn(const Options& options) {
  if (options.argv.empty()) return MakeError(ErrorCode::kInvalidArgument, "spawn: empty argv");
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (const auto& e : options.env_extra) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  TRY(UniqueFd out, OpenOutput(options.stdout_path));
  TRY(UniqueFd err, OpenOutput(options.stderr_path));
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError(errno, "fork for " + options.argv[0]);
  if (pid == 0) ExecChild(argv.data(), envp.data(), out.get(), err.get());
  return ChildProcess(pid);
}

Status ChildProcess::Signal(int sig) const {
  if (pid_ <= 0) return MakeError(ErrorCode::kInvalidArgument, "signal: no process");
  if (::kill(pid_, sig) != 0) return ErrnoError(errno, "kill " + std::to_string(pid_));
  return Ok();
}

Result<int> ChildProcess::Wait() {
  if (pid_ <= 0) return MakeError(ErrorCode::kInvalidArgument, "wait: no process");
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError(errno, "waitpid " + std::to_string(pid_));
  }
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

Result<RunOutput> RunCommand(const std::vector<std::string>& argv) {
  if (argv.empty()) return MakeError(ErrorCode::kInvalidArgument, "run: empty argv");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError(errno, "fork for " + argv[0]);
  if (pid == 0) ExecChild(args.data(), environ, write_end.get(), -1);
  ChildProcess child(pid);
  write_end.Reset();
  RunOutput result;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.out.append(buf, static_cast<size_t>(n));
  }
  TRY(result.exit_code, child.Wait());
  return result;
}

}  // namespace tessera
