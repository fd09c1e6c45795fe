#include "containerd.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "github.com/containerd/containerd/api/services/content/v1/content.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/images/v1/images.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"

namespace tessera::ctrclient::internal {
namespace {

namespace content = containerd::services::content::v1;
namespace images = containerd::services::images::v1;
namespace leases = containerd::services::leases::v1;
namespace snapshots = containerd::services::snapshots::v1;

ErrorCode CodeOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::NOT_FOUND:
      return ErrorCode::kNotFound;
    case grpc::StatusCode::ALREADY_EXISTS:
      return ErrorCode::kAlreadyExists;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return ErrorCode::kInvalidArgument;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return ErrorCode::kFailedPrecondition;
    case grpc::StatusCode::UNAVAILABLE:
      return ErrorCode::kUnavailable;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return ErrorCode::kTimeout;
    case grpc::StatusCode::PERMISSION_DENIED:
      return ErrorCode::kPermission;
    default:
      return ErrorCode::kIo;
  }
}

Status FromGrpc(const grpc::Status& st, const std::string& what) {
  if (st.ok()) return Ok();
  return MakeError(CodeOf(st.error_code()), "containerd " + what + ": " + st.error_message());
}

void SetDescriptor(const ContentDescriptor& in, containerd::types::Descriptor* out) {
  out->set_media_type(in.media_type);
  out->set_digest(in.digest);
  out->set_size(in.size);
}

}  // namespace

Containerd::Containerd(const std::string& address, std::string ns)
    : address_(address),
      ns_(std::move(ns)),
      channel_(grpc::CreateChannel("unix:" + address, grpc::InsecureChannelCredentials())) {}

Containerd::~Containerd() = default;

std::unique_ptr<grpc::ClientContext> Containerd::Context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("containerd-namespace", ns_);
  if (!lease_.empty()) ctx->AddMetadata("containerd-lease", lease_);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  return ctx;
}

Status Containerd::CreateLease(const std::string& id) {
  leases::CreateRequest req;
  req.set_id(id);
  leases::CreateResponse resp;
  auto ctx = Context();
  RETURN_IF_ERROR(FromGrpc(leases::Leases::NewStub(channel_)->Create(ctx.get(), req, &resp),
                           "create lease at " + address_));
  lease_ = id;
  return Ok();
}

Status Containerd::DeleteLease() {
  if (lease_.empty()) return Ok();
  leases::DeleteRequest req;
  req.set_id(lease_);
  lease_.clear();
  google::protobuf::Empty resp;
  auto ctx = Context();
  return FromGrpc(leases::Leases::NewStub(channel_)->Delete(ctx.get(), req, &resp),
                  "delete lease " + req.id());
}

Status Containerd::WriteContent(const ContentDescriptor& desc, const std::vector<uint8_t>& bytes,
                                const Labels& labels) {
  content::WriteContentRequest req;
  req.set_action(content::COMMIT);
  req.set_ref("tesseractl-" + desc.digest);
  req.set_total(static_cast<int64_t>(bytes.size()));
  req.set_expected(desc.digest);
  req.set_offset(0);
  req.set_data(bytes.data(), bytes.size());
  for (const auto& [k, v] : labels) (*req.mutable_labels())[k] = v;
  auto ctx = Context();
  auto stream = content::Content::NewStub(channel_)->Write(ctx.get());
  stream->Write(req);
  stream->WritesDone();
  content::WriteContentResponse resp;
  while (stream->Read(&resp)) {
  }
  grpc::Status st = stream->Finish();
  if (st.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
    return FromGrpc(st, "write content " + desc.digest);
  }
  // Present already (an earlier pull): make sure it carries our labels.
  content::UpdateRequest update;
  update.mutable_info()->set_digest(desc.digest);
  for (const auto& [k, v] : labels) {
    (*update.mutable_info()->mutable_labels())[k] = v;
    update.mutable_update_mask()->add_paths("labels." + k);
  }
  content::UpdateResponse update_resp;
  auto uctx = Context();
  return FromGrpc(content::Content::NewStub(channel_)->Update(uctx.get(), update, &update_resp),
                  "update content labels of " + desc.digest);
}

Status Containerd::PutImage(const std::string& name, const ContentDescriptor& target) {
  images::CreateImageRequest req;
  req.mutable_image()->set_name(name);
  SetDescriptor(target, req.mutable_image()->mutable_target());
  images::CreateImageResponse resp;
  auto stub = images::Images::NewStub(channel_);
  auto ctx = Context();
  grpc::Status st = stub->Create(ctx.get(), req, &resp);
  if (st.error_code() != grpc::StatusCode::ALREADY_EXISTS) return FromGrpc(st, "create image");
  images::UpdateImageRequest update;
  *update.mutable_image() = req.image();
  update.mutable_update_mask()->add_paths("target");
  images::UpdateImageResponse update_resp;
  auto uctx = Context();
  return FromGrpc(stub->Update(uctx.get(), update, &update_resp), "update image " + name);
}

Status Containerd::StatSnapshot(const std::string& snapshotter, const std::string& key) {
  snapshots::StatSnapshotRequest req;
  req.set_snapshotter(snapshotter);
  req.set_key(key);
  snapshots::StatSnapshotResponse resp;
  auto ctx = Context();
  return FromGrpc(snapshots::Snapshots::NewStub(channel_)->Stat(ctx.get(), req, &resp),
                  "stat snapshot " + key);
}

Status Containerd::PrepareSnapshot(const std::string& snapshotter, const std::string& key,
                                   const std::string& parent, const Labels& labels) {
  snapshots::PrepareSnapshotRequest req;
  req.set_snapshotter(snapshotter);
  req.set_key(key);
  req.set_parent(parent);
  for (const auto& [k, v] : labels) (*req.mutable_labels())[k] = v;
  snapshots::PrepareSnapshotResponse resp;
  auto ctx = Context();
  return FromGrpc(snapshots::Snapshots::NewStub(channel_)->Prepare(ctx.get(), req, &resp),
                  "prepare snapshot " + key);
}

Status Containerd::RemoveSnapshot(const std::string& snapshotter, const std::string& key) {
  snapshots::RemoveSnapshotRequest req;
  req.set_snapshotter(snapshotter);
  req.set_key(key);
  google::protobuf::Empty resp;
  auto ctx = Context();
  return FromGrpc(snapshots::Snapshots::NewStub(channel_)->Remove(ctx.get(), req, &resp),
                  "remove snapshot " + key);
}

}  // namespace tessera::ctrclient::internal
