#include "remote/detached.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tessera/common/io.h"

namespace tessera::snapshotter::internal {
namespace {

// Runs in the forked child: only async-signal-safe calls.
[[noreturn]] void ExecChild(char* const* argv, int log_fd, int null_fd, int pid_pipe) {
  ::setsid();
  pid_t grandchild = ::fork();
  if (grandchild != 0) {
    if (grandchild > 0) (void)!::write(pid_pipe, &grandchild, sizeof grandchild);
    ::_exit(grandchild > 0 ? 0 : 1);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::dup2(null_fd, 0);
  ::dup2(log_fd, 1);
  ::dup2(log_fd, 2);
  ::close_range(3, ~0U, 0);  // nothing of ours (sockets, database files) leaks into the daemon
  ::execvp(argv[0], argv);
  ::_exit(127);
}

std::string CmdLine(pid_t pid) {
  std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline");
  std::stringstream ss;
  ss << cmd.rdbuf();
  std::string text = ss.str();
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

}  // namespace

Result<pid_t> SpawnDetached(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) return MakeError(ErrorCode::kInvalidArgument, "spawn: empty argv");
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log.valid()) return ErrnoError(errno, "open " + log_path);
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_fd.valid()) return ErrnoError(errno, "open /dev/null");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  UniqueFd rd(fds[0]);
  UniqueFd wr(fds[1]);
  pid_t child = ::fork();
  if (child < 0) return ErrnoError(errno, "fork");
  if (child == 0) ExecChild(cargv.data(), log.get(), null_fd.get(), wr.get());
  wr.Reset();
  pid_t pid = -1;
  ssize_t n = ::read(rd.get(), &pid, sizeof pid);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (n != static_cast<ssize_t>(sizeof pid) || pid <= 0) {
    return MakeError(ErrorCode::kIo, "spawn " + argv[0] + ": fork failed");
  }
  return pid;
}

std::vector<pid_t> ProcessesMentioning(const std::vector<std::string>& needles) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const pid_t pid = static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10));
    const std::string cmd = CmdLine(pid);
    bool all = !cmd.empty();
    for (const std::string& n : needles) all = all && cmd.find(n) != std::string::npos;
    if (all && ProcessAlive(pid, "")) out.push_back(pid);
  }
  return out;
}

bool ProcessAlive(pid_t pid, const std::string& needle) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] == 'Z') {
    return false;
  }
  return CmdLine(pid).find(needle) != std::string::npos;
}

std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string source, target;
    fields >> source >> target;
    target = UnescapeMountField(target);
    if (target == dir || target.starts_with(dir + "/")) out.push_back(target);
  }
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

bool IsMountPoint(const std::string& path) {
  for (const std::string& m : MountsUnder(path)) {
    if (m == path) return true;
  }
  return false;
}

int DetachMountsUnder(const std::string& dir) {
  int n = 0;
  for (const std::string& m : MountsUnder(dir)) {
    if (::umount2(m.c_str(), MNT_DETACH) == 0) ++n;
  }
  return n;
}

std::string LastLine(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last.size() > 300 ? last.substr(last.size() - 300) : last;
}

}  // namespace tessera::snapshotter::internal
