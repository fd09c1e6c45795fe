#include "support/cri/cri_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "image_service.grpc.pb.h"

namespace tessera::testing {
namespace {

ErrorCode FromGrpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
      return ErrorCode::kUnavailable;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return ErrorCode::kTimeout;
    case grpc::StatusCode::NOT_FOUND:
      return ErrorCode::kNotFound;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return ErrorCode::kInvalidArgument;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return ErrorCode::kFailedPrecondition;
    case grpc::StatusCode::UNIMPLEMENTED:
      return ErrorCode::kUnsupported;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace

Result<std::string> CriPullImage(const std::string& socket, const std::string& image,
                                 int timeout_seconds) {
  auto channel = grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
  auto stub = runtime::v1::ImageService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds));
  runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(image);
  runtime::v1::PullImageResponse response;
  grpc::Status status = stub->PullImage(&context, request, &response);
  if (!status.ok()) {
    return MakeError(FromGrpc(status.error_code()),
                     "CRI PullImage " + image + " on " + socket + ": gRPC code " +
                         std::to_string(static_cast<int>(status.error_code())) + ": " +
                         status.error_message());
  }
  return response.image_ref();
}

}  // namespace tessera::testing
