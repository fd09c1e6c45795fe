// SnapshotsService: containerd.services.snapshots.v1.Snapshots over a Snapshotter. Each RPC
// converts the request, calls the snapshotter and maps its Error to a gRPC status.
//
// Thread-safety: gRPC calls handlers from several threads; the Snapshotter serializes them.
#pragma once

#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"

#include "tessera/common/logging.h"
#include "tessera/snapshotter/snapshotter.h"

namespace tessera::snapshotter::internal {

class SnapshotsService final : public ::containerd::services::snapshots::v1::Snapshots::Service {
 public:
  // Neither is owned; both must outlive the service.
  SnapshotsService(Snapshotter* snapshotter, Logger* logger)
      : snapshotter_(snapshotter), logger_(logger) {}

  using Ctx = grpc::ServerContext;
  using PrepareReq = ::containerd::services::snapshots::v1::PrepareSnapshotRequest;
  using PrepareResp = ::containerd::services::snapshots::v1::PrepareSnapshotResponse;
  using ViewReq = ::containerd::services::snapshots::v1::ViewSnapshotRequest;
  using ViewResp = ::containerd::services::snapshots::v1::ViewSnapshotResponse;
  using MountsReq = ::containerd::services::snapshots::v1::MountsRequest;
  using MountsResp = ::containerd::services::snapshots::v1::MountsResponse;
  using CommitReq = ::containerd::services::snapshots::v1::CommitSnapshotRequest;
  using RemoveReq = ::containerd::services::snapshots::v1::RemoveSnapshotRequest;
  using StatReq = ::containerd::services::snapshots::v1::StatSnapshotRequest;
  using StatResp = ::containerd::services::snapshots::v1::StatSnapshotResponse;
  using UpdateReq = ::containerd::services::snapshots::v1::UpdateSnapshotRequest;
  using UpdateResp = ::containerd::services::snapshots::v1::UpdateSnapshotResponse;
  using ListReq = ::containerd::services::snapshots::v1::ListSnapshotsRequest;
  using ListResp = ::containerd::services::snapshots::v1::ListSnapshotsResponse;
  using UsageReq = ::containerd::services::snapshots::v1::UsageRequest;
  using UsageResp = ::containerd::services::snapshots::v1::UsageResponse;
  using CleanupReq = ::containerd::services::snapshots::v1::CleanupRequest;
  using Empty = google::protobuf::Empty;

  grpc::Status Prepare(Ctx*, const PrepareReq* req, PrepareResp* resp) override;
  grpc::Status View(Ctx*, const ViewReq* req, ViewResp* resp) override;
  grpc::Status Mounts(Ctx*, const MountsReq* req, MountsResp* resp) override;
  grpc::Status Commit(Ctx*, const CommitReq* req, Empty* resp) override;
  grpc::Status Remove(Ctx*, const RemoveReq* req, Empty* resp) override;
  grpc::Status Stat(Ctx*, const StatReq* req, StatResp* resp) override;
  grpc::Status Update(Ctx*, const UpdateReq* req, UpdateResp* resp) override;
  grpc::Status List(Ctx*, const ListReq* req, grpc::ServerWriter<ListResp>* writer) override;
  grpc::Status Usage(Ctx*, const UsageReq* req, UsageResp* resp) override;
  grpc::Status Cleanup(Ctx*, const CleanupReq* req, Empty* resp) override;

 private:
  grpc::Status Fail(const char* rpc, const std::string& key, const Error& error);

  Snapshotter* snapshotter_;
  Logger* logger_;
};

}  // namespace tessera::snapshotter::internal
