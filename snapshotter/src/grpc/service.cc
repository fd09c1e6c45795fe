#include "grpc/service.h"

#include "grpc/convert.h"

namespace tessera::snapshotter::internal {
namespace {

constexpr int kListBatch = 100;  // infos per streamed List message

}  // namespace

grpc::Status SnapshotsService::Fail(const char* rpc, const std::string& key, const Error& error) {
  // Not-found and already-exists are part of containerd's normal protocol (it probes with
  // Stat, and unpacking races on the same layer); they are not worth a warning.
  LogLevel level = (error.code == ErrorCode::kNotFound || error.code == ErrorCode::kAlreadyExists)
                       ? LogLevel::kDebug
                       : LogLevel::kWarn;
  logger_->Log(level, "rpc failed", {{"rpc", rpc}, {"key", key}, {"error", error.ToString()}});
  return ToGrpcStatus(error);
}

grpc::Status SnapshotsService::Prepare(Ctx*, const PrepareReq* req, PrepareResp* resp) {
  auto mounts = snapshotter_->Prepare(req->key(), req->parent(), LabelsFromProto(req->labels()));
  if (!mounts) return Fail("Prepare", req->key(), mounts.error());
  MountsToProto(*mounts, resp->mutable_mounts());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::View(Ctx*, const ViewReq* req, ViewResp* resp) {
  auto mounts = snapshotter_->View(req->key(), req->parent(), LabelsFromProto(req->labels()));
  if (!mounts) return Fail("View", req->key(), mounts.error());
  MountsToProto(*mounts, resp->mutable_mounts());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Mounts(Ctx*, const MountsReq* req, MountsResp* resp) {
  auto mounts = snapshotter_->Mounts(req->key());
  if (!mounts) return Fail("Mounts", req->key(), mounts.error());
  MountsToProto(*mounts, resp->mutable_mounts());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Commit(Ctx*, const CommitReq* req, Empty*) {
  Status st = snapshotter_->Commit(req->name(), req->key(), LabelsFromProto(req->labels()));
  if (!st) return Fail("Commit", req->key(), st.error());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Remove(Ctx*, const RemoveReq* req, Empty*) {
  Status st = snapshotter_->Remove(req->key());
  if (!st) return Fail("Remove", req->key(), st.error());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Stat(Ctx*, const StatReq* req, StatResp* resp) {
  auto info = snapshotter_->Stat(req->key());
  if (!info) return Fail("Stat", req->key(), info.error());
  InfoToProto(*info, resp->mutable_info());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Update(Ctx*, const UpdateReq* req, UpdateResp* resp) {
  std::vector<std::string> paths(req->update_mask().paths().begin(),
                                 req->update_mask().paths().end());
  auto info = snapshotter_->Update(InfoFromProto(req->info()), paths);
  if (!info) return Fail("Update", req->info().name(), info.error());
  InfoToProto(*info, resp->mutable_info());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::List(Ctx*, const ListReq* req,
                                    grpc::ServerWriter<ListResp>* writer) {
  std::vector<std::string> filters(req->filters().begin(), req->filters().end());
  auto infos = snapshotter_->List(filters);
  if (!infos) return Fail("List", "", infos.error());
  logger_->Debug("list", {{"filters", std::to_string(filters.size()) +
                                          (filters.empty() ? "" : ": " + filters.front())},
                          {"matched", std::to_string(infos->size())}});
  ListResp batch;
  for (const SnapshotInfo& info : *infos) {
    InfoToProto(info, batch.add_info());
    if (batch.info_size() >= kListBatch) {
      if (!writer->Write(batch)) return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
      batch.Clear();
    }
  }
  if (batch.info_size() > 0 && !writer->Write(batch)) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
  }
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Usage(Ctx*, const UsageReq* req, UsageResp* resp) {
  auto usage = snapshotter_->GetUsage(req->key());
  if (!usage) return Fail("Usage", req->key(), usage.error());
  resp->set_size(usage->size);
  resp->set_inodes(usage->inodes);
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Cleanup(Ctx*, const CleanupReq*, Empty*) {
  Status st = snapshotter_->Cleanup();
  if (!st) return Fail("Cleanup", "", st.error());
  return grpc::Status::OK;
}

}  // namespace tessera::snapshotter::internal
