// Conversions between the snapshotter's value types and containerd's snapshots.v1 messages,
// and from tessera Errors to the gRPC status codes containerd's errdefs understands.
//
// Thread-safety: pure functions.
#pragma once

#include <grpcpp/grpcpp.h>

#include <vector>

#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.pb.h"

#include "tessera/common/result.h"
#include "tessera/snapshotter/types.h"

namespace tessera::snapshotter::internal {

namespace v1 = ::containerd::services::snapshots::v1;

// kNotFound -> NOT_FOUND, kAlreadyExists -> ALREADY_EXISTS, kFailedPrecondition ->
// FAILED_PRECONDITION, kInvalidArgument -> INVALID_ARGUMENT, kUnavailable -> UNAVAILABLE,
// anything else -> INTERNAL (containerd's errdefs maps the codes back to its error kinds).
grpc::Status ToGrpcStatus(const Error& error);

Labels LabelsFromProto(const google::protobuf::Map<std::string, std::string>& labels);
void InfoToProto(const SnapshotInfo& info, v1::Info* out);
SnapshotInfo InfoFromProto(const v1::Info& info);
void MountsToProto(const std::vector<Mount>& mounts,
                   google::protobuf::RepeatedPtrField<::containerd::types::Mount>* out);

}  // namespace tessera::snapshotter::internal
