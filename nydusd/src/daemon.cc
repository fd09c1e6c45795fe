#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <set>

#include "daemon_impl.h"
#include "fuse/fuse_conn.h"
#include "registry/image_resolver.h"

namespace tessera::nydusd {

Daemon::Daemon(const DaemonConfig& config, Logger& logger) : config_(config), logger_(logger) {
  if (!config_.supervisor.empty()) {
    supervisor_ = std::make_unique<client::SupervisorLink>(config_.supervisor, &logger_);
  }
  flusher_ = std::thread([this] { FlushLoop(); });
}

FuseOptions Daemon::FuseOptionsFor(const std::string& mountpoint, client::HeldConnection* held) {
  FuseOptions fo;
  fo.mountpoint = mountpoint;
  fo.threads = config_.threads;
  fo.io_uring = config_.fuse_io_uring && !supervisor_;
  fo.push.window_bytes = config_.push_ahead_bytes;
  fo.push.max_file_bytes = config_.push_max_file_bytes;
  fo.push.initial_window_bytes = std::min<uint64_t>(config_.push_max_file_bytes, 128u << 10);
  if (!supervisor_) return fo;
  auto fetched = client::FetchHeldConnection(config_.supervisor, mountpoint);
  if (!fetched) {
    logger_.Warn("supervisor: cannot ask for a held connection",
                 {{"mountpoint", mountpoint}, {"error", fetched.error().ToString()}});
    return fo;
  }
  if (!fetched->has_value()) return fo;
  // Only /proc is read: a file-system call on a mount whose daemon is gone would wait for us.
  if (!FuseConnectionOf(mountpoint)) {
    logger_.Warn("supervisor holds a connection for a mountpoint that is gone; mounting anew",
                 {{"mountpoint", mountpoint}});
    return fo;
  }
  *held = std::move(**fetched);
  fo.takeover_fd = held->fuse_fd.get();
  fo.takeover_init = held->init_request;
  return fo;
}

Daemon::~Daemon() {
  Shutdown();
  Wait();
  if (flusher_.joinable()) flusher_.join();
}

// Persists cache bitmaps every two seconds, so a crash loses little fetched data.
void Daemon::FlushLoop() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::seconds(2));
    std::lock_guard<std::mutex> mounts_lock(mu_);
    for (auto& [mp, m] : mounts_) {
      Status st = m->fs->cache().Flush();
      if (!st) logger_.Warn("cache flush failed", {{"error", st.error().ToString()}});
    }
    if (config_.cache_limit > 0) EnforceCacheLimit();
  }
}

uint64_t Daemon::CacheDirBytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(config_.cache_dir, ec)) {
    struct stat st {};
    if (e.path().extension() == ".raw" && ::stat(e.path().c_str(), &st) == 0) {
      total += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  }
  return total;
}

void Daemon::EnforceCacheLimit() {
  uint64_t used = CacheDirBytes();
  metrics_.SetCacheBytes(used);
  if (used <= config_.cache_limit) return;
  std::set<std::string> in_use;
  for (const auto& [mp, m] : mounts_) {
    for (const auto& f : m->fs->cache().CacheFiles()) in_use.insert(f);
  }
  // 1. Cache files of images nobody serves now, least recently modified first.
  std::vector<std::pair<int64_t, std::string>> idle;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(config_.cache_dir, ec)) {
    struct stat st {};
    if (e.path().extension() != ".raw" || in_use.count(e.path().string())) continue;
    if (::stat(e.path().c_str(), &st) == 0) idle.emplace_back(st.st_mtim.tv_sec, e.path().string());
  }
  std::sort(idle.begin(), idle.end());
  for (const auto& [mtime, path] : idle) {
    if (used <= config_.cache_limit) break;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;
    std::string bitmap = path.substr(0, path.size() - 4) + ".bitmap";
    ::unlink(bitmap.c_str());
    if (::unlink(path.c_str()) == 0) {
      used -= std::min<uint64_t>(used, static_cast<uint64_t>(st.st_blocks) * 512);
      metrics_.Evicted(static_cast<uint64_t>(st.st_blocks) * 512);
      logger_.Info("cache: removed an unused image's cache file", {{"file", path}});
    }
  }
  // 2. Last resort: cold chunks of images in use.
  for (const auto& [mp, m] : mounts_) {
    if (used <= config_.cache_limit) break;
    uint64_t freed = m->fs->cache().EvictCold(used - config_.cache_limit);
    used -= std::min(used, freed);
  }
  metrics_.SetCacheBytes(used);
}

Result<std::shared_ptr<storage::BlobBackend>> Daemon::MakeBackend(
    MountConfig& mc, std::shared_ptr<storage::RegistryBackend>* registry) {
  if (mc.image.empty())
    return std::shared_ptr<storage::BlobBackend>(storage::MakeLocalFsBackend(mc.blob_dir));
  std::string cache_dir = mc.cache_dir.empty() ? config_.cache_dir : mc.cache_dir;
  RETURN_IF_ERROR(ResolveRegistryImage(mc, cache_dir, logger_));
  storage::RegistryBackendOptions options = mc.registry;
  options.observer = &metrics_;
  TRY(auto backend, storage::MakeRegistryBackend(options));
  *registry = std::shared_ptr<storage::RegistryBackend>(std::move(backend));
  return std::shared_ptr<storage::BlobBackend>(*registry);
}

Status Daemon::AddMount(const MountConfig& config) {
  auto served = [this](const std::string& mp) -> Status {
    if (mounts_.count(mp)) return MakeError(ErrorCode::kAlreadyExists, "already serving " + mp);
    return Ok();
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(served(config.mountpoint));
  }
  auto m = std::make_unique<Mount>();
  m->config = config;
  MountConfig& mc = m->config;
  // Resolving an image talks to the registry: not under mu_.
  TRY(auto backend, MakeBackend(mc, &m->registry));
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(served(mc.mountpoint));
  storage::CacheOptions cache;
  cache.dir = mc.cache_dir.empty() ? config_.cache_dir : mc.cache_dir;
  cache.merge_limit = config_.merge_limit;
  cache.verify_cached = config_.verify_cached;
  cache.verify_ahead_bytes = config_.verify_ahead_bytes;
  TRY(m->fs, ImageFs::Open(mc.bootstrap, std::move(backend), cache, &metrics_));
  client::HeldConnection held;
  FuseOptions fo = FuseOptionsFor(mc.mountpoint, &held);
  if (fo.takeover_fd < 0) {
    struct stat st {};
    if (::stat(mc.mountpoint.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "mountpoint " + mc.mountpoint + " is not a directory");
    }
  }
  TRY(m->server, FuseServer::Mount(*m->fs, fo, &metrics_, &logger_));
  FuseServer* server = m->server.get();
  if (supervisor_) supervisor_->Hold(mc.mountpoint, server->fd(), server->init_request());
  std::string mp = mc.mountpoint;
  m->loop = std::thread([this, server, mp] {
    Status st = server->Run();
    if (!st)
      logger_.Error("fuse loop failed", {{"mountpoint", mp}, {"error", st.error().ToString()}});
  });
  if (config_.prefetch) {
    m->prefetcher = std::make_unique<Prefetcher>(
        *m->fs, mc.prefetch_files, config_.prefetch_all || mc.prefetch_all, config_.prefetch_rate,
        config_.prefetch_threads, logger_);
  }
  m->mounted_at = static_cast<int64_t>(std::time(nullptr));
  logger_.Info("mounted", {{"mountpoint", mp},
                           {"bootstrap", mc.bootstrap},
                           {"backend", mc.image.empty() ? "localfs" : "registry"},
                           {"image", mc.image},
                           {"taken_over", server->taken_over() ? "true" : "false"}});
  mounts_.emplace(mp, std::move(m));
  return Ok();
}

void Daemon::Stop(Mount& m) {
  m.prefetcher.reset();
  if (supervisor_) supervisor_->Drop(m.config.mountpoint);
  m.server->Exit();
  // Files still open on the detached mount keep the connection (and the workers' reads) alive.
  if (!m.server->WaitStopped(std::chrono::seconds(3))) {
    logger_.Warn("fuse loop still busy after unmount; aborting the connection",
                 {{"mountpoint", m.config.mountpoint}});
    m.server->AbortConnection();
  }
  if (m.loop.joinable()) m.loop.join();
  m.server.reset();
  (void)m.fs->cache().Flush();
}

Result<size_t> Daemon::UpdateRegistryCredentials(const std::string& mountpoint,
                                                 const std::string& host,
                                                 const oci::Credentials& credentials) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t updated = 0;
  bool found = false;
  for (auto& [mp, m] : mounts_) {
    if (!m->registry || (!mountpoint.empty() && mp != mountpoint)) continue;
    found = true;
    updated += m->registry->UpdateCredentials(credentials, host);
    if (host.empty() || host == m->config.registry.primary.host) {
      m->config.registry.primary.credentials = credentials;
    }
  }
  if (!mountpoint.empty() && !found) {
    return MakeError(ErrorCode::kNotFound, "no registry mount at " + mountpoint);
  }
  logger_.Info("registry credentials updated",
               {{"mountpoint", mountpoint}, {"endpoints", std::to_string(updated)}});
  return updated;
}

Status Daemon::RemoveMount(const std::string& mountpoint, bool collect_cache) {
  std::unique_ptr<Mount> m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = mounts_.find(mountpoint);
    if (it == mounts_.end()) return MakeError(ErrorCode::kNotFound, "not serving " + mountpoint);
    m = std::move(it->second);
    mounts_.erase(it);
  }
  std::vector<std::string> files = m->fs->cache().CacheFiles();
  Stop(*m);
  logger_.Info("unmounted", {{"mountpoint", mountpoint}});
  if (collect_cache) {
    if (!m->config.image.empty()) files.push_back(m->config.bootstrap);  // resolved into the cache
    CollectCacheFiles(files);
  }
  return Ok();
}

void Daemon::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
}

void Daemon::Wait() {
  {
    std::unique_lock<std::mutex> lock(stop_mu_);
    stop_cv_.wait(lock, [this] { return stopping_.load(); });
  }
  std::map<std::string, std::unique_ptr<Mount>> mounts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    mounts.swap(mounts_);
  }
  for (auto& [mp, m] : mounts) Stop(*m);
}

std::vector<Daemon::MountInfo> Daemon::Mounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MountInfo> out;
  for (const auto& [mp, m] : mounts_) {
    MountInfo info;
    info.config = m->config;
    info.mounted_at = m->mounted_at;
    info.usage = m->fs->cache().Usage();
    info.cache_files = m->fs->cache().CacheFiles();
    if (m->registry) info.registry = m->registry->Stats();
    if (m->prefetcher) {
      const auto& p = m->prefetcher->progress();
      info.prefetch_files_done = p.files_done;
      info.prefetch_files_total = p.files_total;
      info.prefetch_bytes = p.bytes;
      info.prefetch_finished = p.finished;
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace tessera::nydusd
