// The gRPC service over a real Snapshotter, called directly (no socket): request and response
// conversion, streamed List, and the status codes containerd's errdefs expects.
#include <gtest/gtest.h>

#include "grpc/convert.h"
#include "grpc/service.h"
#include "snapshotter_test_util.h"

namespace tessera::snapshotter {
namespace {

namespace v1 = ::containerd::services::snapshots::v1;
using internal::SnapshotsService;

class GrpcServiceTest : public testing_util::SnapshotterTest {
 protected:
  void SetUp() override {
    SnapshotterTest::SetUp();
    service_ = std::make_unique<SnapshotsService>(snap_.get(), &logger_);
  }
  grpc::StatusCode Prepare(const std::string& key, const std::string& parent,
                           v1::PrepareSnapshotResponse* resp = nullptr) {
    v1::PrepareSnapshotRequest req;
    req.set_key(key);
    req.set_parent(parent);
    (*req.mutable_labels())["containerd.io/snapshot.ref"] = "sha256:1";
    v1::PrepareSnapshotResponse local;
    return service_->Prepare(nullptr, &req, resp ? resp : &local).error_code();
  }
  grpc::StatusCode Commit(const std::string& name, const std::string& key) {
    v1::CommitSnapshotRequest req;
    req.set_name(name);
    req.set_key(key);
    google::protobuf::Empty empty;
    return service_->Commit(nullptr, &req, &empty).error_code();
  }

  std::unique_ptr<SnapshotsService> service_;
};

TEST_F(GrpcServiceTest, PrepareReturnsMountsAndLabelsReachStat) {
  v1::PrepareSnapshotResponse resp;
  ASSERT_EQ(Prepare("a", "", &resp), grpc::StatusCode::OK);
  ASSERT_EQ(resp.mounts_size(), 1);
  EXPECT_EQ(resp.mounts(0).type(), "bind");
  EXPECT_EQ(resp.mounts(0).source(), root() + "/snapshots/1/fs");
  EXPECT_EQ(resp.mounts(0).options_size(), 2);
  v1::StatSnapshotRequest sreq;
  sreq.set_key("a");
  v1::StatSnapshotResponse sresp;
  ASSERT_TRUE(service_->Stat(nullptr, &sreq, &sresp).ok());
  EXPECT_EQ(sresp.info().kind(), v1::ACTIVE);
  EXPECT_EQ(sresp.info().labels().at("containerd.io/snapshot.ref"), "sha256:1");
  EXPECT_GT(sresp.info().created_at().seconds(), 1600000000);
}

TEST_F(GrpcServiceTest, StatusCodesMatchErrdefs) {
  ASSERT_EQ(Prepare("a", ""), grpc::StatusCode::OK);
  EXPECT_EQ(Prepare("a", ""), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Prepare("b", "missing"), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Prepare("b", "a"), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(Commit("layer", "a"), grpc::StatusCode::OK);
  EXPECT_EQ(Commit("layer2", "layer"), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_EQ(Prepare("c", "layer"), grpc::StatusCode::OK);
  v1::RemoveSnapshotRequest rm;
  rm.set_key("layer");
  google::protobuf::Empty empty;
  EXPECT_EQ(service_->Remove(nullptr, &rm, &empty).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::UpdateSnapshotRequest up;
  up.mutable_info()->set_name("c");
  up.mutable_update_mask()->add_paths("kind");
  v1::UpdateSnapshotResponse upr;
  EXPECT_EQ(service_->Update(nullptr, &up, &upr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(internal::ToGrpcStatus(MakeError(ErrorCode::kIo, "x")).error_code(),
            grpc::StatusCode::INTERNAL);
}

TEST_F(GrpcServiceTest, UpdateWithMaskAndUsage) {
  ASSERT_EQ(Prepare("a", ""), grpc::StatusCode::OK);
  v1::UpdateSnapshotRequest up;
  up.mutable_info()->set_name("a");
  (*up.mutable_info()->mutable_labels())["new"] = "1";
  up.mutable_update_mask()->add_paths("labels.new");
  v1::UpdateSnapshotResponse upr;
  ASSERT_TRUE(service_->Update(nullptr, &up, &upr).ok());
  EXPECT_EQ(upr.info().labels_size(), 2);
  EXPECT_EQ(upr.info().labels().at("new"), "1");
  v1::UsageRequest ureq;
  ureq.set_key("a");
  v1::UsageResponse uresp;
  ASSERT_TRUE(service_->Usage(nullptr, &ureq, &uresp).ok());
  EXPECT_EQ(uresp.inodes(), 1);  // the empty fs dir
}

TEST_F(GrpcServiceTest, InfoTimestampsRoundTrip) {
  SnapshotInfo info{.name = "n",
                    .parent = "p",
                    .kind = Kind::kCommitted,
                    .labels = {{"a", "b"}},
                    .created_ns = 1700000000123456789,
                    .updated_ns = 1700000001000000001};
  v1::Info proto;
  internal::InfoToProto(info, &proto);
  EXPECT_EQ(proto.created_at().seconds(), 1700000000);
  EXPECT_EQ(proto.created_at().nanos(), 123456789);
  SnapshotInfo back = internal::InfoFromProto(proto);
  EXPECT_EQ(back.created_ns, info.created_ns);
  EXPECT_EQ(back.updated_ns, info.updated_ns);
  EXPECT_EQ(back.kind, Kind::kCommitted);
  EXPECT_EQ(back.labels, info.labels);
}

}  // namespace
}  // namespace tessera::snapshotter
