// tesserad: serves Tessera images through FUSE, loading chunks on demand from a backend into a
// local cache, with prefetch, an HTTP API on a unix socket and metrics.
//
// Thread-safety: RunDaemon owns all its threads; it returns after a shutdown request (SIGTERM,
// SIGINT or the API's exit call) once the mounts are detached and the caches flushed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/common/logging.h"
#include "tessera/common/result.h"
#include "tessera/storage/registry_backend.h"

namespace tessera::nydusd {

struct MountConfig {
  std::string mountpoint;
  std::string bootstrap;
  std::string blob_dir;                     // localfs backend
  std::string cache_dir;                    // empty: the daemon's cache_dir
  std::vector<std::string> prefetch_files;  // paths in the image, fetched after mount
  bool prefetch_all = false;                // also fetch the rest (or the daemon's setting)
  // Registry backend, instead of bootstrap + blob_dir: a Tessera image reference
  // ("host[:port]/repo:tag" or "@sha256:..."). Its bootstrap layer is fetched (once: it is kept
  // in the cache directory) and blobs are read from the registry on demand.
  std::string image;
  // Endpoints, credentials, timeouts, hedging. primary.host and repo come from `image` when
  // empty; empty primary credentials are looked up in docker_config (empty path: the default
  // docker config) for the primary host.
  storage::RegistryBackendOptions registry;
  std::string docker_config;
};

struct DaemonConfig {
  std::vector<MountConfig> mounts;  // the first comes from the command line
  std::string cache_dir = "/var/cache/tessera";
  // Upper bound on the cache directory's data (bytes on disk); 0 = unlimited. Over it, cache
  // files of images no longer served are deleted first (oldest first), then cold chunks of
  // served images are evicted (they are fetched again when read).
  uint64_t cache_limit = 0;
  std::string apisock;  // empty: no API
  // A supervisor's socket (nydusd_client/supervisor.h): each mount's FUSE connection is handed
  // to it, and a mount whose connection it still holds is taken over instead of remounted.
  std::string supervisor;
  unsigned threads = 4;
  // Backend reads of adjacent frames are merged up to this many compressed bytes.
  uint64_t merge_limit = 1u << 20;
  bool verify_cached = true;
  // With verify_cached: cached chunks up to this many bytes past each read are verified in the
  // background, ahead of a sequential reader (0: only on the read path).
  uint64_t verify_ahead_bytes = 4u << 20;
  // After the first read of a file, the next small cached files of its directory (up to
  // push_max_file_bytes each) are stored into the kernel's page cache, up to this many bytes
  // ahead of the reader (0 = off); see nydusd/src/fs/push_planner.h.
  uint64_t push_ahead_bytes = 1u << 20;
  uint64_t push_max_file_bytes = 128u << 10;
  // Serve FUSE requests over io_uring where the kernel offers it (Linux >= 6.14 with the fuse
  // module's enable_uring=Y); not with a supervisor. See nydusd/src/fuse/fuse_uring.h.
  bool fuse_io_uring = true;
  // Prefetch: the bootstrap's prefetch table and prefetch_files; prefetch_all pulls the rest.
  bool prefetch = true;
  bool prefetch_all = false;
  uint64_t prefetch_rate = 0;  // bytes per second, 0 = unlimited
  unsigned prefetch_threads = 2;
  LogLevel log_level = LogLevel::kWarn;
  bool log_json = false;
};

// Reads a JSON config file (keys documented in README) into `config`; flags given on the
// command line are applied by the caller afterwards.
Status LoadDaemonConfig(const std::string& path, DaemonConfig& config);

// Runs until shutdown; returns the process exit code.
int RunDaemon(const DaemonConfig& config);

}  // namespace tessera::nydusd
