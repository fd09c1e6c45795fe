// TesseradManager's shared mode: one API-only tesserad for every image, mounts added and removed
// through its API (docs/api.md POST/DELETE /api/v1/mounts).
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <thread>

#include "remote/detached.h"
#include "remote/tesserad.h"
#include <nlohmann/json.hpp>

#include "tessera/common/process.h"
#include "tessera/nydusd_client/client.h"
#include "tessera/oci/reference.h"

namespace tessera::snapshotter::internal {
namespace {

using nydusd::client::ApiClient;
using nydusd::client::ApiClientOptions;
using std::chrono::milliseconds;

bool DirExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

ApiClient Client(const std::string& shared_dir) {
  return ApiClient(
      ApiClientOptions{.socket_path = shared_dir + "/api.sock", .timeout = milliseconds(30000)});
}

}  // namespace

std::string TesseradManager::RegistryJson(const std::string& image) const {
  nlohmann::json j = nlohmann::json::object();
  auto ref = oci::Reference::Parse(image);
  if (ref && ref->IsLoopback() && options_.plain_http_loopback) j["scheme"] = "http";
  if (!options_.docker_config.empty()) j["auth"] = {{"docker_config", options_.docker_config}};
  return j.empty() ? std::string() : j.dump();
}

Status TesseradManager::StartShared() {
  const std::string& d = options_.shared_dir;
  Stop(d, logger_);  // whatever is left of a dead daemon
  if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError(errno, "mkdir " + d);
  if (::mkdir((d + "/cache").c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoError(errno, "mkdir " + d + "/cache");
  }
  std::vector<std::string> argv = {options_.tesserad_path, "--apisock", d + "/api.sock",
                                   "--cache-dir", d + "/cache"};
  if (options_.cache_limit > 0) {
    argv.insert(argv.end(), {"--cache-limit", std::to_string(options_.cache_limit)});
  }
  for (const std::string& flag : SupervisorFlags()) argv.push_back(flag);
  TRY(pid_t pid, SpawnDetached(argv, d + "/tesserad.log"));
  std::ofstream(d + "/tesserad.pid", std::ios::trunc) << pid << "\n";
  logger_->Info("started shared tesserad", {{"pid", std::to_string(pid)}});
  ApiClient client = Client(d);
  Status up = client.WaitUntilRunning(milliseconds(30000));
  if (!up) {
    Stop(d, logger_);
    return MakeError(ErrorCode::kUnavailable,
                     "shared tesserad did not come up: " + up.error().ToString() + "; " +
                         LastLine(d + "/tesserad.log"));
  }
  return Ok();
}

Status TesseradManager::EnsureServedShared(const std::string& dir, const std::string& image) {
  const std::string mnt = Mountpoint(dir);
  ApiClient client = Client(options_.shared_dir);
  auto mounts = client.ListMounts();
  if (!mounts) {
    if (IsMountPoint(mnt) || DirExists(options_.shared_dir)) {
      logger_->Warn("shared tesserad gone; restarting", {{"image", image}});
    }
    RETURN_IF_ERROR(StartShared());
    mounts = client.ListMounts();
    if (!mounts) return mounts.error();
  }
  bool listed = false;
  for (const auto& m : *mounts) listed = listed || m.mountpoint == mnt;
  if (listed && IsMountPoint(mnt)) return Ok();
  if (listed) (void)client.Unmount(mnt);
  if (Held(mnt)) {
    logger_->Warn("shared tesserad lost a mount; taking it over", {{"mountpoint", mnt}});
  } else {
    DropHeld(mnt);
    DetachMountsUnder(mnt);
  }
  if (::mkdir(mnt.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError(errno, "mkdir " + mnt);
  nydusd::client::MountRequest req;
  req.mountpoint = mnt;
  req.cache_dir = options_.shared_dir + "/cache";
  req.image = image;
  req.registry = RegistryJson(image);
  auto mounted = client.Mount(req);
  if (!mounted) {
    DropHeld(mnt);  // readers of a mount nobody can serve get errors rather than wait
    DetachMountsUnder(mnt);
    return mounted.error().Wrap("shared tesserad: mount " + image);
  }
  logger_->Info("mounted image in shared tesserad", {{"image", image}, {"mountpoint", mnt}});
  return Ok();
}

void TesseradManager::ReleaseShared(const std::string& dir) {
  const std::string mnt = Mountpoint(dir);
  ApiClient client = Client(options_.shared_dir);
  auto mounts = client.ListMounts();
  size_t left = 0;
  if (mounts) {
    for (const auto& m : *mounts) {
      // Ours, and any whose snapshot directory is gone (removed while the daemon was away).
      if (m.mountpoint == mnt || !DirExists(m.mountpoint)) {
        Status st = client.Unmount(m.mountpoint, /*collect_cache=*/true);
        if (!st) logger_->Warn("shared tesserad unmount", {{"error", st.error().ToString()}});
      } else {
        ++left;
      }
    }
  }
  DetachMountsUnder(dir);
  if (left > 0) return;
  Stop(options_.shared_dir, logger_);
  Status st = RemoveTree(options_.shared_dir);
  if (!st) logger_->Warn("remove shared tesserad dir", {{"error", st.error().ToString()}});
}

}  // namespace tessera::snapshotter::internal
