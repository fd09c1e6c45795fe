// ContainerdServer: a private containerd (Debian's 1.6) wired to tessera-snapshotter as the
// proxy snapshot plugin "tessera", everything under one temporary directory: containerd's
// root, state, sockets and opt dir, the snapshotter's root and socket, FIFOs and runc state.
//
// Teardown (also after a failed assertion) kills containerd, the snapshotter and any shim
// serving this instance by PID, lazily unmounts every mount below the directory and removes
// it. containerd 1.6 hard-codes one path outside it: shim sockets in /run/containerd/s (the
// shims delete them when they exit); /run/containerd is removed again if we created it and it
// is empty.
//
// containerd's CRI plugin is disabled unless Start() is given CriOptions (CRI tests).
//
// Thread-safety: one thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/test_env.h"

#include "tessera/common/process.h"
#include "tessera/common/result.h"

namespace tessera::testing {

// Enables containerd's CRI plugin (kubelet's ImageService and RuntimeService on the same
// socket) the way a node that uses Tessera images configures it: `snapshotter` is CRI's
// snapshotter, snapshot annotations are on (`disable_snapshot_annotations = false`: Prepare gets
// `containerd.io/snapshot.ref` and the `containerd.io/snapshot/cri.*` labels) and
// `plain_http_registry` ("127.0.0.1:PORT") is reached over http through a hosts.toml under
// dir()/certs.d. CNI points at empty directories below dir(): image pulls need no network.
struct CriOptions {
  std::string snapshotter = "tessera";
  std::string plain_http_registry;
};

class ContainerdServer {
 public:
  // Starts tessera-snapshotter (from BinDir(), with `snapshotter_args` added) and containerd and
  // waits until both answer. Without `cri` the CRI plugin is disabled.
  static Result<std::unique_ptr<ContainerdServer>> Start(
      std::vector<std::string> snapshotter_args = {}, std::optional<CriOptions> cri = {});
  ~ContainerdServer();
  ContainerdServer(const ContainerdServer&) = delete;
  ContainerdServer& operator=(const ContainerdServer&) = delete;

  const std::string& dir() const { return dir_.path(); }
  std::string snapshotter_root() const { return dir() + "/snapshotter"; }
  std::string containerd_socket() const { return dir() + "/containerd.sock"; }
  std::string snapshotter_socket() const { return dir() + "/snapshotter.sock"; }

  // SIGKILL the snapshotter (no cleanup on its side); StartSnapshotter() restarts it on the
  // same root and waits for its socket.
  Status KillSnapshotter();
  Status StartSnapshotter();
  // After a restart containerd reconnects to the proxy with gRPC backoff (about a second or
  // more): waits until `ctr snapshots --snapshotter tessera ls` succeeds.
  Status WaitForProxy() const;
  pid_t snapshotter_pid() const { return snapshotter_ ? snapshotter_->pid() : -1; }

  // ctr -a <socket> args... (stdout and stderr captured).
  Result<CommandResult> Ctr(const std::vector<std::string>& args) const;
  // Arguments for `ctr run` that keep FIFOs and runc state inside dir().
  std::vector<std::string> RunFlags() const;

  // Mount points below dir() (from /proc/mounts).
  std::vector<std::string> MountsBelow() const;
  // The snapshotter's log so far, for assertion messages.
  std::string SnapshotterLog() const;
  std::string ContainerdLog() const;

 private:
  explicit ContainerdServer(TempDir dir) : dir_(std::move(dir)) {}
  Status WriteConfig() const;
  std::string CriConfig() const;  // the CRI plugin's part of config.toml (cri_ is set)
  Status StartContainerd();
  void Teardown();

  TempDir dir_;
  bool created_run_containerd_ = false;
  std::optional<ChildProcess> snapshotter_;
  std::optional<ChildProcess> containerd_;
  int snapshotter_starts_ = 0;
  std::vector<std::string> snapshotter_args_;
  std::optional<CriOptions> cri_;
};

// Builds a two-layer busybox-static OCI image with umoci and writes it as an oci-archive tar
// at `tar_path` (ref name "latest"). Layer 1: /bin/busybox, applet symlinks (sh, cat, ls,
// echo), /etc/x = "base", /etc/removed. Layer 2: /etc/x = "changed", /etc/added = "new",
// /etc/removed deleted (a whiteout). `work` is a scratch directory.
Status BuildBusyboxArchive(const std::string& work, const std::string& tar_path);

}  // namespace tessera::testing
