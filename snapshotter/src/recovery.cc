// Opening a root: recovery after a killed process and removal of orphan directories.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>

#include "local_snapshotter.h"
#include "remote/tesserad.h"

#include "tessera/common/process.h"

namespace tessera::snapshotter::internal {
namespace {

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return MakeError(ErrorCode::kIo, "mkdir " + path + ": " + ec.message());
  return Ok();
}

Result<std::set<std::string>> OwnedNames(const MetaStore& store) {
  TRY(std::vector<Record> records, store.List());
  std::set<std::string> names;
  for (const Record& r : records) names.insert(std::to_string(r.id));
  return names;
}

// A record whose directory is missing: the process died between the metadata batch and the
// rename (roll forward), or the directory was lost (recreate it empty so mounts work).
Status RepairDir(const Layout& layout, const Record& r, Logger* logger) {
  if (Exists(layout.TempDir(r.id))) {
    if (::rename(layout.TempDir(r.id).c_str(), layout.Dir(r.id).c_str()) != 0) {
      return ErrnoError(errno, "rename " + layout.TempDir(r.id));
    }
    logger->Info("recovered snapshot dir", {{"key", r.info.name}, {"id", std::to_string(r.id)}});
    return Ok();
  }
  logger->Warn("snapshot dir missing, recreated empty",
               {{"key", r.info.name}, {"id", std::to_string(r.id)}});
  RETURN_IF_ERROR(MakeDirs(layout.Fs(r.id)));
  if (r.info.kind == Kind::kActive) RETURN_IF_ERROR(MakeDirs(layout.Work(r.id)));
  return Ok();
}

}  // namespace

Result<int> RemoveOrphanDirs(const Layout& layout, const MetaStore& store, Logger* logger) {
  TRY(std::set<std::string> owned, OwnedNames(store));
  std::vector<std::string> orphans;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(layout.SnapshotsDir(), ec)) {
    std::string name = entry.path().filename().string();
    if (!owned.contains(name)) orphans.push_back(entry.path().string());
  }
  if (ec) return MakeError(ErrorCode::kIo, "list " + layout.SnapshotsDir() + ": " + ec.message());
  for (const std::string& path : orphans) {
    TesseradManager::Stop(path, logger);  // a removed remote layer's daemon and mount
    RETURN_IF_ERROR(RemoveTree(path));
    logger->Info("removed orphan snapshot dir", {{"path", path}});
  }
  return static_cast<int>(orphans.size());
}

Status RecoverRoot(const Layout& layout, const MetaStore& store, Logger* logger) {
  TRY(std::vector<Record> records, store.List());
  for (const Record& r : records) {
    if (!Exists(layout.Dir(r.id))) RETURN_IF_ERROR(RepairDir(layout, r, logger));
  }
  TRY(int removed, RemoveOrphanDirs(layout, store, logger));
  (void)removed;
  return Ok();
}

}  // namespace tessera::snapshotter::internal

namespace tessera::snapshotter {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kView:
      return "view";
    case Kind::kActive:
      return "active";
    case Kind::kCommitted:
      return "committed";
    case Kind::kUnknown:
      break;
  }
  return "unknown";
}

Result<std::unique_ptr<Snapshotter>> Snapshotter::Open(const SnapshotterOptions& options,
                                                       Logger* logger) {
  if (options.root.empty() || options.root.front() != '/') {
    return MakeError(ErrorCode::kInvalidArgument, "root must be an absolute path");
  }
  internal::Layout layout{options.root};
  RETURN_IF_ERROR(internal::MakeDirs(layout.SnapshotsDir()));
  TRY(auto store, internal::MetaStore::Open(layout.MetadataDir()));
  RETURN_IF_ERROR_CTX(internal::RecoverRoot(layout, *store, logger), "recover " + options.root);
  bool index_off =
      options.overlay_index_off.value_or(internal::Exists("/sys/module/overlay/parameters/index"));
  auto remote = std::make_unique<internal::TesseradManager>(
      internal::TesseradOptions{.tesserad_path = options.tesserad_path,
                                .plain_http_loopback = options.plain_http_loopback,
                                .docker_config = options.docker_config,
                                .cache_limit = options.cache_limit,
                                .shared = options.shared_daemon,
                                .shared_dir = options.root + "/tesserad",
                                .supervisor_path = options.root + "/supervisor.sock"},
      logger);
  Status supervising = remote->StartSupervisor();
  if (!supervising) {
    logger->Warn("no supervisor: a crashed tesserad will end its mounts",
                 {{"error", supervising.error().ToString()}});
  }
  auto probe =
      std::make_unique<internal::LayerProbe>(options.plain_http_loopback, options.docker_config);
  return std::unique_ptr<Snapshotter>(new internal::LocalSnapshotter(
      std::move(layout), std::move(store), std::move(remote), std::move(probe), index_off,
      std::chrono::milliseconds(options.health_interval_ms), logger));
}

}  // namespace tessera::snapshotter
