#include "grpc/convert.h"

namespace tessera::snapshotter::internal {
namespace {

void ToTimestamp(int64_t ns, google::protobuf::Timestamp* out) {
  int64_t secs = ns / 1000000000;
  int64_t nanos = ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    secs -= 1;
  }
  out->set_seconds(secs);
  out->set_nanos(static_cast<int32_t>(nanos));
}

int64_t FromTimestamp(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000000000 + ts.nanos();
}

v1::Kind KindToProto(Kind kind) {
  switch (kind) {
    case Kind::kView:
      return v1::VIEW;
    case Kind::kActive:
      return v1::ACTIVE;
    case Kind::kCommitted:
      return v1::COMMITTED;
    case Kind::kUnknown:
      break;
  }
  return v1::UNKNOWN;
}

Kind KindFromProto(v1::Kind kind) {
  switch (kind) {
    case v1::VIEW:
      return Kind::kView;
    case v1::ACTIVE:
      return Kind::kActive;
    case v1::COMMITTED:
      return Kind::kCommitted;
    default:
      return Kind::kUnknown;
  }
}

}  // namespace

grpc::Status ToGrpcStatus(const Error& error) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (error.code) {
    case ErrorCode::kNotFound:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case ErrorCode::kAlreadyExists:
      code = grpc::StatusCode::ALREADY_EXISTS;
      break;
    case ErrorCode::kFailedPrecondition:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case ErrorCode::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case ErrorCode::kUnavailable:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    default:
      break;
  }
  return grpc::Status(code, error.ToString());
}

Labels LabelsFromProto(const google::protobuf::Map<std::string, std::string>& labels) {
  return Labels(labels.begin(), labels.end());
}

void InfoToProto(const SnapshotInfo& info, v1::Info* out) {
  out->set_name(info.name);
  out->set_parent(info.parent);
  out->set_kind(KindToProto(info.kind));
  ToTimestamp(info.created_ns, out->mutable_created_at());
  ToTimestamp(info.updated_ns, out->mutable_updated_at());
  out->mutable_labels()->insert(info.labels.begin(), info.labels.end());
}

SnapshotInfo InfoFromProto(const v1::Info& info) {
  return SnapshotInfo{.name = info.name(),
                      .parent = info.parent(),
                      .kind = KindFromProto(info.kind()),
                      .labels = LabelsFromProto(info.labels()),
                      .created_ns = FromTimestamp(info.created_at()),
                      .updated_ns = FromTimestamp(info.updated_at())};
}

void MountsToProto(const std::vector<Mount>& mounts,
                   google::protobuf::RepeatedPtrField<::containerd::types::Mount>* out) {
  for (const Mount& m : mounts) {
    ::containerd::types::Mount* pm = out->Add();
    pm->set_type(m.type);
    pm->set_source(m.source);
    pm->set_target(m.target);
    for (const std::string& o : m.options) pm->add_options(o);
  }
}

}  // namespace tessera::snapshotter::internal
