#include "support/containerd_server.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tessera/common/io.h"

namespace tessera::testing {
namespace {

constexpr char kRunContainerd[] = "/run/containerd";

Status WriteText(const std::string& path, const std::string& text) {
  return WriteFile(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

std::string ReadText(const std::string& path) {
  auto bytes = ReadFile(path);
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

bool SocketAnswers(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  std::copy(path.begin(), path.end(), addr.sun_path);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

// Polls `ready` every 50 ms for up to `seconds`.
template <typename F>
bool WaitFor(F ready, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ready();
}

// PIDs whose command line mentions `needle` (our shims name our containerd socket).
std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    // /proc files report size 0, so read to end of stream rather than by size.
    std::ifstream in(e.path().string() + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

Status RunOk(const std::vector<std::string>& argv) {
  TRY(CommandResult r, RunCapture(argv));
  if (r.exit_code != 0) return MakeError(ErrorCode::kInternal, Describe(argv, r));
  return Ok();
}

}  // namespace

Result<std::unique_ptr<ContainerdServer>> ContainerdServer::Start(
    std::vector<std::string> snapshotter_args, std::optional<CriOptions> cri) {
  TRY(TempDir dir, TempDir::Create("tessera-containerd"));
  std::unique_ptr<ContainerdServer> server(new ContainerdServer(std::move(dir)));
  server->snapshotter_args_ = std::move(snapshotter_args);
  server->cri_ = std::move(cri);
  struct stat st {};
  server->created_run_containerd_ = ::stat(kRunContainerd, &st) != 0;
  RETURN_IF_ERROR(server->WriteConfig());
  RETURN_IF_ERROR(server->StartSnapshotter());
  RETURN_IF_ERROR(server->StartContainerd());
  return server;
}

ContainerdServer::~ContainerdServer() { Teardown(); }

Status ContainerdServer::WriteConfig() const {
  const std::string d = dir();
  std::ostringstream cfg;
  cfg << "version = 2\n"
      << "root = \"" << d << "/root\"\n"
      << "state = \"" << d << "/state\"\n"
      << (cri_ ? "" : "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n")
      << "[grpc]\n  address = \"" << containerd_socket() << "\"\n"
      << "[ttrpc]\n  address = \"" << containerd_socket() << ".ttrpc\"\n"
      << "[debug]\n  level = \"info\"\n"
      << "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"" << d << "/opt\"\n"
      << "[proxy_plugins.tessera]\n  type = \"snapshot\"\n  address = \"" << snapshotter_socket()
      << "\"\n";
  if (cri_) {
    cfg << CriConfig();
    if (!cri_->plain_http_registry.empty()) {
      const std::string hosts = d + "/certs.d/" + cri_->plain_http_registry;
      std::error_code ec;
      std::filesystem::create_directories(hosts, ec);
      const std::string url = "http://" + cri_->plain_http_registry;
      std::ostringstream toml;
      toml << "server = \"" << url << "\"\n[host.\"" << url << "\"]\n"
           << "  capabilities = [\"pull\", \"resolve\"]\n";
      RETURN_IF_ERROR(WriteText(hosts + "/hosts.toml", toml.str()));
    }
  }
  return WriteText(d + "/config.toml", cfg.str());
}

std::string ContainerdServer::CriConfig() const {
  const std::string d = dir(), cri = "[plugins.\"io.containerd.grpc.v1.cri\"";
  std::ostringstream cfg;
  cfg << cri << "]\n  stream_server_address = \"127.0.0.1\"\n  stream_server_port = \"0\"\n"
      << cri << ".containerd]\n  snapshotter = \"" << cri_->snapshotter << "\"\n"
      << "  disable_snapshot_annotations = false\n"
      << cri << ".cni]\n  bin_dir = \"" << d << "/cni/bin\"\n  conf_dir = \"" << d
      << "/cni/net.d\"\n"
      << cri << ".registry]\n  config_path = \"" << d << "/certs.d\"\n";
  return cfg.str();
}

Status ContainerdServer::StartSnapshotter() {
  ChildProcess::Options o;
  o.argv = {BinPath("tessera-snapshotter"),
            "--root",
            snapshotter_root(),
            "--address",
            snapshotter_socket(),
            "--log-level",
            "debug"};
  o.argv.insert(o.argv.end(), snapshotter_args_.begin(), snapshotter_args_.end());
  o.stdout_path = o.stderr_path =
      dir() + "/snapshotter." + std::to_string(snapshotter_starts_++) + ".log";
  TRY(ChildProcess child, ChildProcess::Spawn(o));
  snapshotter_.emplace(std::move(child));
  if (!WaitFor([&] { return SocketAnswers(snapshotter_socket()); }, 20)) {
    return MakeError(ErrorCode::kTimeout,
                     "tessera-snapshotter did not listen:\n" + SnapshotterLog());
  }
  return Ok();
}

Status ContainerdServer::KillSnapshotter() {
  if (!snapshotter_) return Ok();
  RETURN_IF_ERROR(snapshotter_->Signal(SIGKILL));
  TRY(int status, snapshotter_->Wait());
  (void)status;
  snapshotter_.reset();
  return Ok();
}

Status ContainerdServer::WaitForProxy() const {
  bool up = WaitFor(
      [&] {
        auto r = Ctr({"snapshots", "--snapshotter", "tessera", "ls"});
        return r.has_value() && r->exit_code == 0;
      },
      30);
  if (!up) return MakeError(ErrorCode::kTimeout, "containerd did not reconnect to the snapshotter");
  return Ok();
}

Status ContainerdServer::StartContainerd() {
  ChildProcess::Options o;
  o.argv = {"containerd", "--config", dir() + "/config.toml"};
  o.stdout_path = o.stderr_path = dir() + "/containerd.log";
  TRY(ChildProcess child, ChildProcess::Spawn(o));
  containerd_.emplace(std::move(child));
  bool up = WaitFor(
      [&] {
        auto r = Ctr({"version"});
        return r.has_value() && r->exit_code == 0;
      },
      30);
  if (!up) return MakeError(ErrorCode::kTimeout, "containerd did not start:\n" + ContainerdLog());
  return Ok();
}

Result<CommandResult> ContainerdServer::Ctr(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"timeout",          "-s", "KILL", "120", "ctr", "-a",
                                   containerd_socket()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCapture(argv);
}

std::vector<std::string> ContainerdServer::RunFlags() const {
  return {"--fifo-dir", dir() + "/fifo", "--runc-root", dir() + "/runc"};
}

std::vector<std::string> ContainerdServer::MountsBelow() const {
  std::vector<std::string> out;
  std::ifstream mounts("/proc/mounts");
  std::string source, target, rest;
  while (mounts >> source >> target && std::getline(mounts, rest)) {
    if (target.starts_with(dir() + "/")) out.push_back(target);
  }
  return out;
}

std::string ContainerdServer::SnapshotterLog() const {
  std::string out;
  for (int i = 0; i < snapshotter_starts_; ++i) {
    out += ReadText(dir() + "/snapshotter." + std::to_string(i) + ".log");
  }
  return out;
}

std::string ContainerdServer::ContainerdLog() const { return ReadText(dir() + "/containerd.log"); }

void ContainerdServer::Teardown() {
  if (containerd_) {
    // Kill whatever task still runs, so its shim exits and unmounts its rootfs (with CRI, also
    // in the CRI plugin's namespace).
    std::vector<std::vector<std::string>> namespaces = {{}};  // ctr's own (default)
    if (cri_) namespaces.push_back({"-n", "k8s.io"});
    for (const auto& ns : namespaces) {
      std::vector<std::string> ls = ns, kill = ns;
      ls.insert(ls.end(), {"tasks", "ls", "-q"});
      kill.insert(kill.end(), {"tasks", "kill", "-s", "SIGKILL"});
      auto tasks = Ctr(ls);
      if (!tasks || tasks->exit_code != 0) continue;
      std::istringstream ids(tasks->output);
      for (std::string id; ids >> id;) {
        kill.push_back(id);
        (void)Ctr(kill);
        kill.pop_back();
      }
    }
  }
  containerd_.reset();   // SIGKILL and reap
  snapshotter_.reset();  // SIGKILL and reap
  for (pid_t pid : ProcessesMentioning(containerd_socket())) ::kill(pid, SIGKILL);
  // tesserad daemons the snapshotter started for Tessera layers (detached, under its root).
  for (pid_t pid : ProcessesMentioning(snapshotter_root() + "/")) ::kill(pid, SIGKILL);
  std::vector<std::string> mounts = MountsBelow();
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& m : mounts) ::umount2(m.c_str(), MNT_DETACH);
  if (created_run_containerd_) {
    std::error_code ec;
    for (const char* sub : {"/s", "/fifo", "/runc/default", "/runc", ""}) {
      std::filesystem::remove(std::string(kRunContainerd) + sub, ec);  // only if empty
    }
  }
}

Status BuildBusyboxArchive(const std::string& work, const std::string& tar_path) {
  const std::string layout = work + "/oci", image = layout + ":latest";
  const std::string b1 = work + "/bundle1", b2 = work + "/bundle2";
  RETURN_IF_ERROR(RunOk({"umoci", "init", "--layout", layout}));
  RETURN_IF_ERROR(RunOk({"umoci", "new", "--image", image}));
  RETURN_IF_ERROR(RunOk({"umoci", "unpack", "--image", image, b1}));
  std::error_code ec;
  std::filesystem::create_directories(b1 + "/rootfs/bin", ec);
  std::filesystem::create_directories(b1 + "/rootfs/etc", ec);
  std::filesystem::copy_file("/usr/bin/busybox", b1 + "/rootfs/bin/busybox", ec);
  if (ec) return MakeError(ErrorCode::kNotFound, "copy /usr/bin/busybox: " + ec.message());
  for (const char* applet : {"sh", "cat", "ls", "echo"}) {
    std::filesystem::create_symlink("busybox", b1 + "/rootfs/bin/" + applet, ec);
  }
  RETURN_IF_ERROR(WriteText(b1 + "/rootfs/etc/x", "base\n"));
  RETURN_IF_ERROR(WriteText(b1 + "/rootfs/etc/removed", "doomed\n"));
  RETURN_IF_ERROR(RunOk({"umoci", "repack", "--image", image, b1}));
  // A fresh unpack, so the second repack diffs against layer 1.
  RETURN_IF_ERROR(RunOk({"umoci", "unpack", "--image", image, b2}));
  RETURN_IF_ERROR(WriteText(b2 + "/rootfs/etc/x", "changed\n"));
  RETURN_IF_ERROR(WriteText(b2 + "/rootfs/etc/added", "new\n"));
  std::filesystem::remove(b2 + "/rootfs/etc/removed", ec);
  RETURN_IF_ERROR(RunOk({"umoci", "repack", "--image", image, b2}));
  RETURN_IF_ERROR(RunOk({"umoci", "config", "--image", image, "--config.cmd", "/bin/sh",
                         "--config.env", "PATH=/bin"}));
  RETURN_IF_ERROR(RunOk({"umoci", "gc", "--layout", layout}));
  return RunOk({"tar", "-C", layout, "-cf", tar_path, "."});
}

}  // namespace tessera::testing
