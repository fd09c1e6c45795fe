// TesseradManager: the tesserad daemons that serve Tessera images for the snapshotter.
//
// Per-image mode: one daemon serves one image (a committed bootstrap snapshot), with
// everything it owns under that snapshot's directory DIR = snapshots/<id>:
//   DIR/mnt           the FUSE mount of the image (the lower dir of containers on top)
//   DIR/api.sock      the daemon's API socket (docs/api.md)
//   DIR/cache         its chunk cache
//   DIR/tesserad.pid  its pid; DIR/tesserad.log its output
// Shared mode: one daemon (started API-only under shared_dir: api.sock, cache/, tesserad.pid,
// tesserad.log) serves every image, each mounted at DIR/mnt through POST /api/v1/mounts; it is
// stopped, and shared_dir removed, when its last mount is released.
// Daemons are detached (their own session), so they outlive a restart of the snapshotter, which
// re-attaches through the socket; a daemon found dead (or its mount gone) is restarted.
// Crash recovery: the manager runs a supervisor (nydusd_client/supervisor.h) on
// TesseradOptions::supervisor_path that every daemon hands its FUSE connections to; when a
// daemon dies, its mounts stay up (their readers wait) and the new daemon takes them over, so
// running containers keep their root file system.
//
// Thread-safety: the caller serializes calls per directory (the snapshotter's lock).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tessera/common/logging.h"
#include "tessera/common/result.h"
#include "tessera/nydusd_client/supervisor.h"

namespace tessera::snapshotter::internal {

struct TesseradOptions {
  std::string tesserad_path;        // empty: beside this executable, then $PATH
  bool plain_http_loopback = true;  // http for registries on loopback addresses
  std::string docker_config;        // credentials file passed to tesserad; empty: its default
  uint64_t cache_limit = 0;         // bytes per daemon cache; 0: unlimited
  bool shared = false;              // one daemon for all images
  std::string shared_dir;           // the shared daemon's directory (absolute)
  std::string supervisor_path;      // empty: no supervisor (a crash ends the mounts)
};

class TesseradManager {
 public:
  TesseradManager(TesseradOptions options, Logger* logger);
  ~TesseradManager();

  // Starts the supervisor (if configured); daemons already running re-register with it.
  Status StartSupervisor();

  static std::string Mountpoint(const std::string& dir) { return dir + "/mnt"; }

  // Makes sure a live tesserad serves `image` at Mountpoint(dir): re-attaches to a running one,
  // or stops a dead/broken one (detaching its stale mount) and starts a new one, waiting until
  // its mount is up. Errors name the image and include the daemon's last log line.
  Status EnsureServed(const std::string& dir, const std::string& image);

  // The image of `dir` is no longer needed: per-image, Stop(dir); shared, its mount is removed
  // from the shared daemon (and mounts whose directory is gone), and the daemon is stopped when
  // none is left. Never fails; problems are logged.
  void Release(const std::string& dir);

  // Stops a per-image daemon of `dir` (API exit, then SIGKILL), detaches every mount under
  // `dir` and removes its socket and pid file. Never fails; problems are logged.
  static void Stop(const std::string& dir, Logger* logger);
  // Stop() for a daemon whose mount the supervisor keeps for a successor: leftover processes
  // are killed, the mount stays.
  static void StopKeepingMount(const std::string& dir, Logger* logger);

  // True if a live daemon answers on dir's socket and serves Mountpoint(dir).
  static bool Healthy(const std::string& dir);

 private:
  Status Start(const std::string& dir, const std::string& image);
  // Shared mode (shared_daemon.cc).
  Status EnsureServedShared(const std::string& dir, const std::string& image);
  Status StartShared();
  void ReleaseShared(const std::string& dir);
  // The MountRequest "registry" object for image: http for loopback, the docker config.
  std::string RegistryJson(const std::string& image) const;
  // tesserad flags shared by both modes (registry, cache limit).
  std::vector<std::string> CommonFlags(const std::string& image) const;

  // True if the supervisor keeps the connection of a mountpoint that is still mounted (a new
  // daemon can take it over).
  bool Held(const std::string& mountpoint) const;
  void DropHeld(const std::string& mountpoint);
  std::vector<std::string> SupervisorFlags() const;

  TesseradOptions options_;
  Logger* logger_;
  std::unique_ptr<nydusd::client::Supervisor> supervisor_;
};

}  // namespace tessera::snapshotter::internal
