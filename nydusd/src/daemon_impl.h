// Daemon: the mounts a tesserad process serves, their caches, prefetchers and FUSE loops.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fs/image_fs.h"
#include "fuse/fuse_server.h"
#include "metrics_observer.h"
#include "prefetch.h"

#include "tessera/nydusd/daemon.h"
#include "tessera/nydusd_client/supervisor.h"

namespace tessera::nydusd {

class Daemon {
 public:
  Daemon(const DaemonConfig& config, Logger& logger);
  ~Daemon();

  // Opens the image, mounts it and starts serving it on its own thread.
  Status AddMount(const MountConfig& mount);
  // New credentials for the registry mounts (mountpoint empty: all of them) and their
  // endpoints (host empty: all); returns the number of endpoints updated. kNotFound if
  // mountpoint names no registry mount.
  Result<size_t> UpdateRegistryCredentials(const std::string& mountpoint, const std::string& host,
                                           const oci::Credentials& credentials);
  // Unmounts and forgets a mount. collect_cache: then deletes its cache files (and the
  // bootstrap a registry image was resolved to) that no mount still served uses: garbage
  // collection by reference, for caches shared by several images.
  Status RemoveMount(const std::string& mountpoint, bool collect_cache = false);
  // Asks every mount to stop; Wait() returns once they have.
  void Shutdown();
  void Wait();

  struct MountInfo {
    MountConfig config;
    int64_t mounted_at = 0;
    storage::CacheUsage usage;
    uint64_t prefetch_files_done = 0, prefetch_files_total = 0, prefetch_bytes = 0;
    bool prefetch_finished = false;
    std::vector<std::string> cache_files;
    std::optional<storage::RegistryBackendStats> registry;  // registry backend only
  };
  std::vector<MountInfo> Mounts() const;
  const DaemonConfig& config() const { return config_; }
  DaemonMetrics& metrics() { return metrics_; }
  std::chrono::steady_clock::time_point start_time() const { return start_; }
  bool stopping() const { return stopping_; }

 private:
  struct Mount {
    MountConfig config;
    int64_t mounted_at = 0;
    std::shared_ptr<storage::RegistryBackend> registry;  // null for localfs
    std::unique_ptr<ImageFs> fs;
    std::unique_ptr<FuseServer> server;
    std::unique_ptr<Prefetcher> prefetcher;
    std::thread loop;
  };
  void FlushLoop();
  // Keeps the cache directory under config_.cache_limit (see DaemonConfig). Caller holds mu_.
  void EnforceCacheLimit();
  uint64_t CacheDirBytes() const;
  // Deletes those of `files` (cache files, with their bitmaps; bootstraps, with their layer
  // files) that no served mount uses (cache_gc.cc).
  void CollectCacheFiles(const std::vector<std::string>& files);
  void Stop(Mount& m);
  // FUSE options for a mount; with a supervisor, the connection it holds for a mountpoint that
  // is still mounted is taken over (`held` keeps its descriptor until the server has its own).
  FuseOptions FuseOptionsFor(const std::string& mountpoint, client::HeldConnection* held);
  // The backend for a mount; for an image, resolves it first (mc.bootstrap is set then).
  Result<std::shared_ptr<storage::BlobBackend>> MakeBackend(
      MountConfig& mc, std::shared_ptr<storage::RegistryBackend>* registry);

  DaemonConfig config_;
  Logger& logger_;
  DaemonMetrics metrics_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  mutable std::mutex mu_;  // guards mounts_
  std::map<std::string, std::unique_ptr<Mount>> mounts_;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::thread flusher_;
  std::unique_ptr<client::SupervisorLink> supervisor_;  // null without config_.supervisor
};

}  // namespace tessera::nydusd
