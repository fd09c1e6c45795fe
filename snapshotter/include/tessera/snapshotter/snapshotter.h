// Snapshotter: containerd's snapshot model (Prepare/View/Commit/Remove of layered directories)
// on local disk, the way containerd's overlayfs snapshotter does it, with RocksDB metadata.
//
// Layout under the root: metadata/ (RocksDB) and snapshots/<id>/{fs,work}. Every operation is
// one atomic metadata batch; directories are made under a temporary name (snapshots/new-<id>)
// and renamed after the batch commits, and Open() finishes or removes whatever a killed
// process left half-done, so the root is consistent after a kill -9 at any point.
//
// Errors use the codes containerd expects: kNotFound (no such key or parent), kAlreadyExists
// (key or commit name taken), kFailedPrecondition (removing a snapshot with children,
// committing a non-active one, Mounts of a committed one), kInvalidArgument (bad label, bad
// filter, parent not committed, bad field path).
//
// Thread-safety: every method may be called from any thread; operations are serialized.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/common/logging.h"
#include "tessera/common/result.h"
#include "tessera/snapshotter/types.h"

namespace tessera::snapshotter {

struct SnapshotterOptions {
  std::string root;  // created if missing
  // Add "index=off" to overlay mounts (as containerd does when the overlay module has the
  // index parameter); nullopt: decide from /sys/module/overlay/parameters/index.
  std::optional<bool> overlay_index_off;
  // How Tessera (remote) layers are served by tesserad daemons.
  std::string tesserad_path;        // empty: beside this executable, then $PATH
  bool plain_http_loopback = true;  // registries on loopback addresses over http
  std::string docker_config;        // registry credentials for tesserad; empty: its default
  uint64_t cache_limit = 0;         // bytes per daemon cache; 0: unlimited
  // One tesserad (under <root>/tesserad) for every image instead of one per image.
  bool shared_daemon = false;
  // Daemons serving mounts are checked this often, and a dead one is replaced (its successor
  // takes over the FUSE connections kept by the supervisor at <root>/supervisor.sock); 0: only
  // on Prepare/View/Mounts.
  uint64_t health_interval_ms = 2000;
};

class Snapshotter {
 public:
  virtual ~Snapshotter() = default;

  // Opens (or creates) the root, recovers from an interrupted process and removes directories
  // no snapshot owns. The logger must outlive the snapshotter.
  static Result<std::unique_ptr<Snapshotter>> Open(const SnapshotterOptions& options,
                                                   Logger* logger);

  // New active (writable) snapshot `key` on committed `parent` (may be empty); its mounts.
  virtual Result<std::vector<Mount>> Prepare(const std::string& key, const std::string& parent,
                                             const Labels& labels) = 0;
  // New read-only view `key` of committed `parent`; its mounts.
  virtual Result<std::vector<Mount>> View(const std::string& key, const std::string& parent,
                                          const Labels& labels) = 0;
  // Mounts of an active snapshot or view (a committed one is a failed precondition).
  virtual Result<std::vector<Mount>> Mounts(const std::string& key) = 0;
  // Turns active `key` into committed `name` (usage computed now); `key` disappears.
  virtual Status Commit(const std::string& name, const std::string& key, const Labels& labels) = 0;
  // Removes a snapshot without children, and its directory.
  virtual Status Remove(const std::string& key) = 0;
  virtual Result<SnapshotInfo> Stat(const std::string& key) = 0;
  // Updates labels: field paths "labels" (replace all) or "labels.<key>" (set, or delete if
  // absent from info); no paths replaces all labels. Returns the updated info.
  virtual Result<SnapshotInfo> Update(const SnapshotInfo& info,
                                      const std::vector<std::string>& field_paths) = 0;
  // Snapshots matching any of the filters (containerd filter syntax); all if none.
  virtual Result<std::vector<SnapshotInfo>> List(const std::vector<std::string>& filters) = 0;
  // Committed: usage recorded at commit. Active: measured now. View: zero.
  virtual Result<Usage> GetUsage(const std::string& key) = 0;
  // Removes snapshot directories that no snapshot owns.
  virtual Status Cleanup() = 0;
};

}  // namespace tessera::snapshotter
