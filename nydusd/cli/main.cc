// tesserad: serves Tessera images lazily through FUSE.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "tessera/common/io.h"
#include "tessera/nydusd/daemon.h"

namespace {

// Registry backend flags; applied over the config file's registry settings.
struct RegistryFlags {
  std::string image, ca_file, user, password_file, docker_config;
  std::vector<std::string> mirrors;
  bool plain_http = false, insecure = false;
  int64_t timeout_ms = 0, hedge_delay_ms = -1;
  int retry_limit = -1;
};

void AddRegistryFlags(CLI::App& app, RegistryFlags& f) {
  app.add_option("--image", f.image, "serve this Tessera image from its registry (REF)");
  app.add_flag("--plain-http", f.plain_http, "talk to the registry (and mirrors) over http");
  app.add_flag("--insecure-tls", f.insecure, "https without certificate verification");
  app.add_option("--ca-file", f.ca_file, "extra CA bundle for the registry")
      ->check(CLI::ExistingFile);
  app.add_option("--registry-user", f.user, "registry user name");
  app.add_option("--registry-password-file", f.password_file, "file holding the password")
      ->check(CLI::ExistingFile);
  app.add_option("--docker-config", f.docker_config, "docker config.json with credentials");
  app.add_option("--mirror", f.mirrors, "mirror host[:port], tried after the registry (repeat)");
  app.add_option("--registry-timeout-ms", f.timeout_ms, "bound on one blob read, retries included");
  app.add_option("--hedge-delay-ms", f.hedge_delay_ms, "hedge slow reads after this (0: off)");
  app.add_option("--retry-limit", f.retry_limit, "retries of a failed blob read");
}

bool ApplyRegistryFlags(const RegistryFlags& f, tessera::nydusd::MountConfig& m) {
  using std::chrono::milliseconds;
  auto& o = m.registry;
  if (!f.image.empty()) m.image = f.image;
  if (f.plain_http) o.primary.plain_http = true;
  if (f.insecure) o.primary.insecure_tls = true;
  if (!f.ca_file.empty()) o.primary.ca_file = f.ca_file;
  if (!f.user.empty()) o.primary.credentials.username = f.user;
  if (!f.password_file.empty()) {
    auto bytes = tessera::ReadFile(f.password_file);
    if (!bytes) {
      std::fprintf(stderr, "tesserad: %s\n", bytes.error().ToString().c_str());
      return false;
    }
    std::string pw(bytes->begin(), bytes->end());
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
    o.primary.credentials.password = pw;
  }
  if (!f.docker_config.empty()) m.docker_config = f.docker_config;
  for (const auto& host : f.mirrors) {
    tessera::storage::RegistryEndpoint e = o.primary;
    e.host = host;
    e.credentials = {};
    o.mirrors.push_back(e);
  }
  if (f.timeout_ms > 0) o.timeout = milliseconds(f.timeout_ms);
  if (f.hedge_delay_ms >= 0) o.hedge_delay = milliseconds(f.hedge_delay_ms);
  if (f.retry_limit >= 0) o.retry_limit = f.retry_limit;
  return true;
}

}  // namespace

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
  // Not stat'ed here: a mount being taken over from a supervisor must not be touched before
  // this daemon serves it (the daemon checks a new mountpoint itself).
  app.add_option("--mountpoint", mount.mountpoint, "where to mount the image");
  auto* cache = app.add_option("--cache-dir", config.cache_dir, "chunk cache directory");
  auto* sock = app.add_option("--apisock", config.apisock, "HTTP API unix socket");
  auto* limit = app.add_option("--cache-limit", config.cache_limit,
                               "cache size limit in bytes (0: unlimited); evicts cold data");
  auto* threads = app.add_option("--threads", config.threads, "FUSE worker threads");
  auto* supervisor = app.add_option(
      "--supervisor", config.supervisor,
      "unix socket of a supervisor that keeps the FUSE connections across a daemon crash");
  app.add_option("--config", config_file, "JSON config file (flags override it)")
      ->check(CLI::ExistingFile);
  app.add_option("--prefetch-files", mount.prefetch_files, "paths in the image to prefetch");
  auto* all = app.add_flag("--prefetch-all", config.prefetch_all, "then fetch the whole image");
  auto* rate = app.add_option("--prefetch-rate", config.prefetch_rate, "prefetch bytes/s limit");
  app.add_option("--log-level", log_level, "debug, info, warn (default), error");
  app.add_flag("--log-json", config.log_json, "structured logs as JSON lines");
  RegistryFlags registry;
  AddRegistryFlags(app, registry);
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
    if (supervisor->count() == 0) config.supervisor = from_file.supervisor;
    if (limit->count() == 0) config.cache_limit = from_file.cache_limit;
    if (all->count() == 0) config.prefetch_all = from_file.prefetch_all;
    if (rate->count() == 0) config.prefetch_rate = from_file.prefetch_rate;
    config.merge_limit = from_file.merge_limit;
    config.verify_cached = from_file.verify_cached;
    config.verify_ahead_bytes = from_file.verify_ahead_bytes;
    config.push_ahead_bytes = from_file.push_ahead_bytes;
    config.push_max_file_bytes = from_file.push_max_file_bytes;
    config.fuse_io_uring = from_file.fuse_io_uring;
    config.prefetch = from_file.prefetch;
    config.log_level = from_file.log_level;
    mount.blob_dir = from_file.mounts[0].blob_dir;
    mount.image = from_file.mounts[0].image;
    mount.registry = from_file.mounts[0].registry;
    mount.docker_config = from_file.mounts[0].docker_config;
  }
  if (!ApplyRegistryFlags(registry, mount)) return 2;
  if (!log_level.empty() && !tessera::ParseLogLevel(log_level, &config.log_level)) {
    std::fprintf(stderr, "tesserad: bad --log-level '%s'\n", log_level.c_str());
    return 2;
  }
  if (!mount.mountpoint.empty()) {
    if (mount.image.empty() && (mount.bootstrap.empty() || mount.blob_dir.empty())) {
      std::fprintf(stderr, "tesserad: --mountpoint needs --image, or --bootstrap and --blob-dir\n");
      return 2;
    }
    config.mounts.push_back(mount);
  } else if (config.apisock.empty()) {
    std::fprintf(stderr,
                 "tesserad: give --mountpoint (with --image, or --bootstrap and --blob-dir) or "
                 "--apisock\n");
    return 2;
  }
  return tessera::nydusd::RunDaemon(config);
}
