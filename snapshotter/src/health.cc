// LocalSnapshotter's life cycle and its daemon health checks: a daemon that died is replaced
// while containers run, not only when containerd next asks for mounts.
#include <set>

#include "local_snapshotter.h"
#include "remote/detached.h"

namespace tessera::snapshotter::internal {

LocalSnapshotter::LocalSnapshotter(Layout layout, std::unique_ptr<MetaStore> store,
                                   std::unique_ptr<TesseradManager> remote,
                                   std::unique_ptr<LayerProbe> probe, bool index_off,
                                   std::chrono::milliseconds health_interval, Logger* logger)
    : layout_(std::move(layout)),
      store_(std::move(store)),
      remote_(std::move(remote)),
      probe_(std::move(probe)),
      index_off_(index_off),
      logger_(logger) {
  if (health_interval.count() > 0) {
    health_ = std::thread([this, health_interval] { HealthLoop(health_interval); });
  }
}

LocalSnapshotter::~LocalSnapshotter() {
  {
    std::lock_guard lock(health_mu_);
    stopping_ = true;
  }
  health_cv_.notify_all();
  if (health_.joinable()) health_.join();
}

void LocalSnapshotter::HealthLoop(std::chrono::milliseconds interval) {
  std::unique_lock lock(health_mu_);
  while (!health_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    CheckDaemons();
    lock.lock();
  }
}

void LocalSnapshotter::CheckDaemons() {
  std::lock_guard lock(mu_);
  auto records = store_->List();
  if (!records) {
    logger_->Warn("health check: cannot list snapshots", {{"error", records.error().ToString()}});
    return;
  }
  // One read of the mount table for all records.
  const std::vector<std::string> listed = MountsUnder(layout_.SnapshotsDir());
  const std::set<std::string> mounted(listed.begin(), listed.end());
  for (const Record& r : *records) {
    if (RemoteKindOfSnapshot(r.info.labels) != RemoteKind::kBootstrap) continue;
    const std::string dir = layout_.Dir(r.id);
    // Only images in use: containerd mounts them through Prepare/View, which serves them.
    if (!mounted.count(TesseradManager::Mountpoint(dir))) continue;
    auto image = r.info.labels.find(kLabelRemoteImage);
    if (image == r.info.labels.end()) continue;
    Status st = remote_->EnsureServed(dir, image->second);
    if (!st) {
      logger_->Error("health check: image not served",
                     {{"image", image->second}, {"error", st.error().ToString()}});
    }
  }
}

}  // namespace tessera::snapshotter::internal
