// LocalSnapshotter: the Snapshotter on a local root (see snapshotter.h for the layout and the
// crash-safety rules). Private to the library; tests reach it through Snapshotter::Open.
//
// Thread-safety: every public method takes mu_, so operations never interleave.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "metastore/metastore.h"
#include "remote/labels.h"
#include "remote/layer_probe.h"
#include "remote/tesserad.h"

#include "tessera/common/logging.h"
#include "tessera/snapshotter/snapshotter.h"

namespace tessera::snapshotter::internal {

// Paths under the root.
struct Layout {
  std::string root;
  std::string MetadataDir() const { return root + "/metadata"; }
  std::string SnapshotsDir() const { return root + "/snapshots"; }
  std::string Dir(uint64_t id) const { return SnapshotsDir() + "/" + std::to_string(id); }
  // Where a snapshot's directories are made before its metadata commits.
  std::string TempDir(uint64_t id) const { return SnapshotsDir() + "/new-" + std::to_string(id); }
  std::string Fs(uint64_t id) const { return Dir(id) + "/fs"; }
  std::string Work(uint64_t id) const { return Dir(id) + "/work"; }
};

// Finishes what a killed process left: a committed record whose directory is still under its
// temporary name is renamed into place (a missing one is recreated empty, with a warning), and
// every entry of snapshots/ that no record owns is removed.
Status RecoverRoot(const Layout& layout, const MetaStore& store, Logger* logger);
// Removes entries of snapshots/ that no record owns; returns how many.
Result<int> RemoveOrphanDirs(const Layout& layout, const MetaStore& store, Logger* logger);

class LocalSnapshotter final : public Snapshotter {
 public:
  LocalSnapshotter(Layout layout, std::unique_ptr<MetaStore> store,
                   std::unique_ptr<TesseradManager> remote, std::unique_ptr<LayerProbe> probe,
                   bool index_off, std::chrono::milliseconds health_interval, Logger* logger);
  ~LocalSnapshotter() override;

  Result<std::vector<Mount>> Prepare(const std::string& key, const std::string& parent,
                                     const Labels& labels) override;
  Result<std::vector<Mount>> View(const std::string& key, const std::string& parent,
                                  const Labels& labels) override;
  Result<std::vector<Mount>> Mounts(const std::string& key) override;
  Status Commit(const std::string& name, const std::string& key, const Labels& labels) override;
  Status Remove(const std::string& key) override;
  Result<SnapshotInfo> Stat(const std::string& key) override;
  Result<SnapshotInfo> Update(const SnapshotInfo& info,
                              const std::vector<std::string>& field_paths) override;
  Result<std::vector<SnapshotInfo>> List(const std::vector<std::string>& filters) override;
  Result<Usage> GetUsage(const std::string& key) override;
  Status Cleanup() override;

 private:
  // Makes the snapshot record and directories (mu_ held); mounts are not computed.
  Result<Record> CreateLocked(Kind kind, const std::string& key, const std::string& parent,
                              const Labels& labels);
  Status CommitLocked(const std::string& name, const std::string& key, const Labels& labels);
  Status RemoveLocked(const std::string& key);
  // The remote kind a Prepare asks for: from the Tessera labels, else (CRI labels) from the
  // image's manifest. A manifest that cannot be read makes the layer a plain one (logged).
  RemoteKind RemoteKindOf(const Labels& labels);
  // Remote-snapshot protocol for a Tessera layer: commits it under the label
  // containerd.io/snapshot.ref and answers kAlreadyExists, so containerd does not fetch it.
  Status PrepareRemote(const std::string& key, const std::string& parent, const Labels& labels,
                       RemoteKind kind);
  // The checks Prepare/View make before touching the disk (the metastore repeats them).
  Status CheckNew(const std::string& key, const std::string& parent, const Labels& labels) const;
  Status MakeTempDirs(uint64_t id, Kind kind, const std::string& parent);
  Result<std::vector<Mount>> MountsOf(const Record& record) const;
  // Every `interval`: makes sure each mounted Tessera image is served by a live daemon.
  void HealthLoop(std::chrono::milliseconds interval);
  void CheckDaemons();
  std::string ContentDir(const Record& record) const;

  const Layout layout_;
  std::mutex mu_;  // serializes every operation
  std::unique_ptr<MetaStore> store_;
  std::unique_ptr<TesseradManager> remote_;
  std::unique_ptr<LayerProbe> probe_;
  const bool index_off_;
  Logger* logger_;
  std::mutex health_mu_;
  std::condition_variable health_cv_;
  bool stopping_ = false;  // guarded by health_mu_
  std::thread health_;
};

}  // namespace tessera::snapshotter::internal
