#include "local_snapshotter.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "disk_usage.h"
#include "filters/filter.h"
#include "mounts/mounts.h"

#include "tessera/common/process.h"

namespace tessera::snapshotter::internal {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) return ErrnoError(errno, "mkdir " + path);
  if (::chmod(path.c_str(), mode) != 0) return ErrnoError(errno, "chmod " + path);  // no umask
  return Ok();
}

}  // namespace

std::string LocalSnapshotter::ContentDir(const Record& record) const {
  return record.remote_dir.empty() ? layout_.Fs(record.id) : record.remote_dir;
}

Result<std::vector<Mount>> LocalSnapshotter::MountsOf(const Record& record) const {
  MountPlan plan{.kind = record.info.kind,
                 .fs_dir = layout_.Fs(record.id),
                 .work_dir = layout_.Work(record.id),
                 .lower_dirs = {},
                 .index_off = index_off_};
  std::string parent = record.info.parent;
  while (!parent.empty()) {
    TRY(Record p, store_->Get(parent));
    const RemoteKind remote = RemoteKindOfSnapshot(p.info.labels);
    if (remote == RemoteKind::kBootstrap) {
      // The whole image (every blob layer below) is tesserad's mount of it.
      auto image = p.info.labels.find(kLabelRemoteImage);
      if (image == p.info.labels.end()) {
        return MakeError(ErrorCode::kCorrupt, "remote snapshot \"" + parent + "\" names no image");
      }
      RETURN_IF_ERROR(remote_->EnsureServed(layout_.Dir(p.id), image->second));
      plan.lower_dirs.push_back(TesseradManager::Mountpoint(layout_.Dir(p.id)));
      break;
    }
    if (remote == RemoteKind::kNone) plan.lower_dirs.push_back(ContentDir(p));
    parent = p.info.parent;
  }
  return ComputeMounts(plan);
}

Status LocalSnapshotter::MakeTempDirs(uint64_t id, Kind kind, const std::string& parent) {
  const std::string tmp = layout_.TempDir(id);
  RETURN_IF_ERROR(RemoveTree(tmp));  // a leftover of a failed attempt with the same id
  RETURN_IF_ERROR(MakeDir(tmp, 0700));
  RETURN_IF_ERROR(MakeDir(tmp + "/fs", 0755));
  if (kind == Kind::kActive) RETURN_IF_ERROR(MakeDir(tmp + "/work", 0711));
  if (!parent.empty()) {
    // The new upper dir takes its owner from the parent's, like containerd's overlayfs.
    TRY(Record p, store_->Get(parent));
    if (RemoteKindOfSnapshot(p.info.labels) != RemoteKind::kNone) return Ok();  // owned by root
    struct stat st {};
    if (::stat(ContentDir(p).c_str(), &st) != 0) return ErrnoError(errno, "stat parent dir");
    if (::lchown((tmp + "/fs").c_str(), st.st_uid, st.st_gid) != 0) {
      return ErrnoError(errno, "chown " + tmp + "/fs");
    }
  }
  return Ok();
}

Status LocalSnapshotter::CheckNew(const std::string& key, const std::string& parent,
                                  const Labels& labels) const {
  RETURN_IF_ERROR(ValidateName(key));
  RETURN_IF_ERROR(ValidateLabels(labels));
  if (store_->Get(key)) return MakeError(ErrorCode::kAlreadyExists, "snapshot \"" + key + "\"");
  if (parent.empty()) return Ok();
  TRY(Record p, store_->Get(parent));
  if (p.info.kind != Kind::kCommitted) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "parent \"" + parent + "\" is not a committed snapshot");
  }
  return Ok();
}

Result<Record> LocalSnapshotter::CreateLocked(Kind kind, const std::string& key,
                                              const std::string& parent, const Labels& labels) {
  RETURN_IF_ERROR(CheckNew(key, parent, labels));
  TRY(uint64_t id, store_->NextId());
  ScopeExit drop_tmp([&] { (void)RemoveTree(layout_.TempDir(id)); });
  RETURN_IF_ERROR(MakeTempDirs(id, kind, parent));
  const int64_t now = NowNs();
  TRY(Record record, store_->Create(SnapshotInfo{.name = key,
                                                 .parent = parent,
                                                 .kind = kind,
                                                 .labels = labels,
                                                 .created_ns = now,
                                                 .updated_ns = now}));
  if (record.id != id) {  // mutations are serialized by mu_, so this cannot happen
    (void)store_->Remove(key);
    return MakeError(ErrorCode::kInternal, "snapshot id changed while creating " + key);
  }
  if (::rename(layout_.TempDir(id).c_str(), layout_.Dir(id).c_str()) != 0) {
    Error err = ErrnoError(errno, "rename " + layout_.TempDir(id) + " to " + layout_.Dir(id));
    (void)store_->Remove(key);
    return err;
  }
  drop_tmp.Dismiss();
  logger_->Debug("created snapshot", {{"key", key},
                                      {"parent", parent},
                                      {"kind", std::string(KindName(kind))},
                                      {"id", std::to_string(id)}});
  return record;
}

Result<std::vector<Mount>> LocalSnapshotter::Prepare(const std::string& key,
                                                     const std::string& parent,
                                                     const Labels& labels) {
  std::lock_guard lock(mu_);
  const RemoteKind remote = RemoteKindOf(labels);
  if (remote != RemoteKind::kNone) {
    RETURN_IF_ERROR(PrepareRemote(key, parent, labels, remote));
    return MakeError(ErrorCode::kInternal, "remote prepare did not report its snapshot");
  }
  TRY(Record record, CreateLocked(Kind::kActive, key, parent, labels));
  auto mounts = MountsOf(record);
  if (!mounts) (void)RemoveLocked(key);  // e.g. tesserad could not start: leave nothing behind
  return mounts;
}

Result<std::vector<Mount>> LocalSnapshotter::View(const std::string& key, const std::string& parent,
                                                  const Labels& labels) {
  std::lock_guard lock(mu_);
  TRY(Record record, CreateLocked(Kind::kView, key, parent, labels));
  auto mounts = MountsOf(record);
  if (!mounts) (void)RemoveLocked(key);
  return mounts;
}

RemoteKind LocalSnapshotter::RemoteKindOf(const Labels& labels) {
  const RemoteKind kind = RemoteKindOfPrepare(labels);
  if (kind != RemoteKind::kNone || !LayerProbe::HasCriLabels(labels)) return kind;
  auto probed = probe_->Probe(labels);
  if (probed) return *probed;
  logger_->Warn("cannot tell whether a CRI layer is a Tessera layer; unpacking it",
                {{"error", probed.error().ToString()}});
  return RemoteKind::kNone;
}

Status LocalSnapshotter::PrepareRemote(const std::string& key, const std::string& parent,
                                       const Labels& labels, RemoteKind kind) {
  TRY(Labels committed, RemoteSnapshotLabels(labels, kind));
  const std::string target = labels.at(kLabelSnapshotRef);
  if (!store_->Get(target)) {
    TRY(Record made, CreateLocked(Kind::kActive, key, parent, labels));
    (void)made;
    Status st = CommitLocked(target, key, committed);
    if (!st) {
      (void)RemoveLocked(key);
      return st;
    }
    if (kind == RemoteKind::kBootstrap) {
      TRY(Record record, store_->Get(target));
      record.remote_dir = TesseradManager::Mountpoint(layout_.Dir(record.id));
      RETURN_IF_ERROR(store_->Put(record));
    }
    logger_->Info(
        "committed remote Tessera layer",
        {{"name", target}, {"kind", kind == RemoteKind::kBootstrap ? "bootstrap" : "blob"}});
  }
  return MakeError(ErrorCode::kAlreadyExists,
                   "snapshot \"" + target + "\" (a remote Tessera layer)");
}

Result<std::vector<Mount>> LocalSnapshotter::Mounts(const std::string& key) {
  std::lock_guard lock(mu_);
  TRY(Record record, store_->Get(key));
  if (record.info.kind != Kind::kActive && record.info.kind != Kind::kView) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "snapshot \"" + key + "\" is neither active nor a view");
  }
  return MountsOf(record);
}

Status LocalSnapshotter::Commit(const std::string& name, const std::string& key,
                                const Labels& labels) {
  std::lock_guard lock(mu_);
  return CommitLocked(name, key, labels);
}

Status LocalSnapshotter::CommitLocked(const std::string& name, const std::string& key,
                                      const Labels& labels) {
  TRY(Record record, store_->Get(key));
  if (record.info.kind != Kind::kActive) {
    return MakeError(ErrorCode::kFailedPrecondition, "snapshot \"" + key + "\" is not active");
  }
  if (store_->Get(name)) return MakeError(ErrorCode::kAlreadyExists, "snapshot \"" + name + "\"");
  TRY(Usage usage, DiskUsage(layout_.Fs(record.id)));
  TRY(Record committed, store_->Commit(name, key, labels, usage, NowNs()));
  logger_->Debug("committed snapshot",
                 {{"key", key}, {"name", name}, {"size", std::to_string(usage.size)}});
  return Ok();
}

Status LocalSnapshotter::Remove(const std::string& key) {
  std::lock_guard lock(mu_);
  return RemoveLocked(key);
}

Status LocalSnapshotter::RemoveLocked(const std::string& key) {
  TRY(Record record, store_->Remove(key));
  if (RemoteKindOfSnapshot(record.info.labels) == RemoteKind::kBootstrap) {
    remote_->Release(layout_.Dir(record.id));  // its mount, and its daemon once unused
  }
  // The metadata is gone; a directory left by a failure here is an orphan that Cleanup (or the
  // next start) removes.
  Status st = RemoveTree(layout_.Dir(record.id));
  if (!st) logger_->Warn("remove snapshot dir", {{"error", st.error().ToString()}});
  logger_->Debug("removed snapshot", {{"key", key}, {"id", std::to_string(record.id)}});
  return Ok();
}

Result<SnapshotInfo> LocalSnapshotter::Stat(const std::string& key) {
  std::lock_guard lock(mu_);
  TRY(Record record, store_->Get(key));
  return record.info;
}

Result<SnapshotInfo> LocalSnapshotter::Update(const SnapshotInfo& info,
                                              const std::vector<std::string>& field_paths) {
  std::lock_guard lock(mu_);
  TRY(Record record, store_->Get(info.name));
  Labels& labels = record.info.labels;
  if (field_paths.empty()) labels = info.labels;
  for (const std::string& path : field_paths) {
    if (path == "labels") {
      labels = info.labels;
    } else if (path.starts_with("labels.") && path.size() > 7) {
      const std::string label = path.substr(7);
      auto it = info.labels.find(label);
      if (it != info.labels.end()) {
        labels[label] = it->second;
      } else {
        labels.erase(label);
      }
    } else {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cannot update field \"" + path + "\" of a snapshot");
    }
  }
  record.info.updated_ns = NowNs();
  RETURN_IF_ERROR(store_->Put(record));
  return record.info;
}

Result<std::vector<SnapshotInfo>> LocalSnapshotter::List(const std::vector<std::string>& filters) {
  TRY(FilterSet set, FilterSet::Parse(filters));
  std::lock_guard lock(mu_);
  TRY(std::vector<Record> records, store_->List());
  std::vector<SnapshotInfo> out;
  for (Record& r : records) {
    if (set.Match(r.info)) out.push_back(std::move(r.info));
  }
  return out;
}

Result<Usage> LocalSnapshotter::GetUsage(const std::string& key) {
  std::lock_guard lock(mu_);
  TRY(Record record, store_->Get(key));
  if (record.info.kind == Kind::kActive) return DiskUsage(layout_.Fs(record.id));
  return record.usage;
}

Status LocalSnapshotter::Cleanup() {
  std::lock_guard lock(mu_);
  TRY(int removed, RemoveOrphanDirs(layout_, *store_, logger_));
  logger_->Info("cleanup", {{"removed_dirs", std::to_string(removed)}});
  return Ok();
}

}  // namespace tessera::snapshotter::internal
