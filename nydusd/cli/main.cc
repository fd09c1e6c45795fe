// tesserad: serves Tessera images lazily through FUSE.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "tessera/nydusd/daemon.h"

int main(int argc, char** argv) {
  using tessera::nydusd::DaemonConfig;
  CLI::App app{
      "tesserad: serves a Tessera image through FUSE, fetching chunks on demand, "
      "verifying their sha256 and caching them locally.",
      "tesserad"};
  DaemonConfig config;
  tessera::nydusd::MountConfig mount;
  std::string config_file, log_level;
  std::string prefetch_list;
  app.add_option("--bootstrap", mount.bootstrap, "image bootstrap")->check(CLI::ExistingFile);
  app.add_option("--blob-dir", mount.blob_dir, "directory of blobs (localfs backend)");
  app.add_option("--mountpoint", mount.mountpoint, "where to mount the image")
      ->check(CLI::ExistingDirectory);
  auto* cache = app.add_option("--cache-dir", config.cache_dir, "chunk cache directory");
  auto* sock = app.add_option("--apisock", config.apisock, "HTTP API unix socket");
  auto* limit = app.add_option("--cache-limit", config.cache_limit,
                               "cache size limit in bytes (0: unlimited); evicts cold data");
  auto* threads = app.add_option("--threads", config.threads, "FUSE worker threads");
  app.add_option("--config", config_file, "JSON config file (flags override it)")
      ->check(CLI::ExistingFile);
  app.add_option("--prefetch-files", mount.prefetch_files, "paths in the image to prefetch");
  auto* all = app.add_flag("--prefetch-all", config.prefetch_all, "then fetch the whole image");
  auto* rate = app.add_option("--prefetch-rate", config.prefetch_rate, "prefetch bytes/s limit");
  app.add_option("--log-level", log_level, "debug, info, warn (default), error");
  app.add_flag("--log-json", config.log_json, "structured logs as JSON lines");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!config_file.empty()) {
    DaemonConfig from_file;
    from_file.mounts.push_back(mount);
    auto st = tessera::nydusd::LoadDaemonConfig(config_file, from_file);
    if (!st) {
      std::fprintf(stderr, "tesserad: %s\n", st.error().ToString().c_str());
      return 2;
    }
    // Flags given explicitly win over the file.
    if (cache->count() == 0) config.cache_dir = from_file.cache_dir;
    if (sock->count() == 0) config.apisock = from_file.apisock;
    if (threads->count() == 0) config.threads = from_file.threads;
    if (limit->count() == 0) config.cache_limit = from_file.cache_limit;
    if (all->count() == 0) config.prefetch_all = from_file.prefetch_all;
    if (rate->count() == 0) config.prefetch_rate = from_file.prefetch_rate;
    config.merge_limit = from_file.merge_limit;
    config.verify_cached = from_file.verify_cached;
    config.prefetch = from_file.prefetch;
    config.log_level = from_file.log_level;
    mount.blob_dir = from_file.mounts[0].blob_dir;
  }
  if (!log_level.empty() && !tessera::ParseLogLevel(log_level, &config.log_level)) {
    std::fprintf(stderr, "tesserad: bad --log-level '%s'\n", log_level.c_str());
    return 2;
  }
  if (!mount.mountpoint.empty()) {
    if (mount.bootstrap.empty() || mount.blob_dir.empty()) {
      std::fprintf(stderr, "tesserad: --mountpoint needs --bootstrap and --blob-dir\n");
      return 2;
    }
    config.mounts.push_back(mount);
  } else if (config.apisock.empty()) {
    std::fprintf(stderr,
                 "tesserad: give --mountpoint (with --bootstrap, --blob-dir) or --apisock\n");
    return 2;
  }
  return tessera::nydusd::RunDaemon(config);
}
