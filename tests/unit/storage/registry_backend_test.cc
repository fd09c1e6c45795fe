// The registry backend's policy (endpoint order, health marking, failover, retries, hedging,
// cancellation, deadlines) over in-process fake endpoints.
#include "tessera/storage/registry_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace tessera::storage {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A fake registry endpoint: serves `data` after `delay` (cancellable), or fails with `fail`
// for its first `fail_count` requests.
class FakeSource final : public RangeSource {
 public:
  FakeSource(std::string host, std::vector<uint8_t> data) : host_(std::move(host)), data_(data) {}
  std::string host() const override { return host_; }
  Status ReadRange(const std::string& digest, uint64_t offset, std::span<uint8_t> out,
                   const oci::RequestControl& control) override {
    ++calls;
    last_digest = digest;
    auto until = Clock::now() + delay;
    while (Clock::now() < until) {
      if (control.cancel != nullptr && control.cancel->load()) {
        ++cancelled;
        return MakeError(ErrorCode::kCancelled, "cancelled");
      }
      if (control.deadline && Clock::now() >= *control.deadline) {
        return MakeError(ErrorCode::kTimeout, "deadline");
      }
      std::this_thread::sleep_for(milliseconds(1));
    }
    if (fail_count > 0) {
      --fail_count;
      return MakeError(fail, "injected");
    }
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
    return Ok();
  }
  void SetCredentials(const oci::Credentials& c) override {
    std::lock_guard<std::mutex> lock(mu);
    user = c.username;
  }

  std::atomic<int> calls{0}, cancelled{0};
  std::atomic<int> fail_count{0};
  ErrorCode fail = ErrorCode::kUnavailable;
  milliseconds delay{0};
  std::string last_digest;
  std::mutex mu;
  std::string user;

 private:
  std::string host_;
  std::vector<uint8_t> data_;
};

class RegistryBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t i = 0; i < data_.size(); ++i) data_[i] = static_cast<uint8_t>(i * 7 + 1);
    blob_.id.fill(0xab);
    blob_.compressed_size = data_.size();
    primary_ = std::make_shared<FakeSource>("primary:5000", data_);
    mirror_ = std::make_shared<FakeSource>("mirror:5000", data_);
    options_.retry_backoff = milliseconds(1);
  }
  std::unique_ptr<RegistryBackend> Make(bool with_mirror = true) {
    std::vector<std::shared_ptr<RangeSource>> s = {primary_};
    if (with_mirror) s.push_back(mirror_);
    return MakeRegistryBackendFromSources(s, options_);
  }
  // Reads 100 bytes at 1000 and checks them.
  Status ReadAndCheck(RegistryBackend& b) {
    std::vector<uint8_t> out(100);
    Status st = b.Read(blob_, 1000, out);
    if (st) {
      EXPECT_TRUE(std::equal(out.begin(), out.end(), data_.begin() + 1000));
    }
    return st;
  }

  std::vector<uint8_t> data_ = std::vector<uint8_t>(4096);
  BlobInfo blob_;
  std::shared_ptr<FakeSource> primary_, mirror_;
  RegistryBackendOptions options_;
};

TEST_F(RegistryBackendTest, ReadsFromThePrimaryByDigest) {
  auto b = Make();
  ASSERT_TRUE(ReadAndCheck(*b));
  EXPECT_EQ(primary_->calls, 1);
  EXPECT_EQ(mirror_->calls, 0);
  EXPECT_EQ(primary_->last_digest, "sha256:" + blob_.IdHex());
  EXPECT_EQ(b->Stats().requests, 1u);
  EXPECT_EQ(b->Stats().bytes, 100u);
}

TEST_F(RegistryBackendTest, RefusesRangesPastTheBlob) {
  auto b = Make();
  std::vector<uint8_t> out(100);
  auto st = b->Read(blob_, data_.size() - 50, out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(primary_->calls, 0);
}

TEST_F(RegistryBackendTest, FailsOverToTheMirrorAndMarksThePrimaryUnhealthy) {
  options_.failure_threshold = 2;
  options_.cooldown = milliseconds(60000);
  primary_->fail_count = 1000;
  auto b = Make();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ReadAndCheck(*b));
  // Two failures marked the primary bad; the third read went to the mirror directly.
  EXPECT_EQ(primary_->calls, 2);
  EXPECT_EQ(mirror_->calls, 3);
  auto s = b->Stats();
  EXPECT_EQ(s.failovers, 3u);
  ASSERT_EQ(s.endpoints.size(), 2u);
  EXPECT_FALSE(s.endpoints[0].healthy);
  EXPECT_EQ(s.endpoints[0].failures, 2u);
  EXPECT_TRUE(s.endpoints[1].healthy);
}

TEST_F(RegistryBackendTest, UnhealthyPrimaryComesBackAfterTheCooldown) {
  options_.failure_threshold = 1;
  options_.cooldown = milliseconds(50);
  primary_->fail_count = 1;
  auto b = Make();
  ASSERT_TRUE(ReadAndCheck(*b));
  EXPECT_FALSE(b->Stats().endpoints[0].healthy);
  auto until = Clock::now() + milliseconds(2000);
  while (!b->Stats().endpoints[0].healthy && Clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_TRUE(ReadAndCheck(*b));
  EXPECT_EQ(primary_->calls, 2);
  EXPECT_EQ(mirror_->calls, 1);
  EXPECT_TRUE(b->Stats().endpoints[0].healthy);
}

TEST_F(RegistryBackendTest, RetriesTransientFailuresThenGivesUp) {
  options_.retry_limit = 2;
  primary_->fail_count = 2;
  auto b = Make(false);
  ASSERT_TRUE(ReadAndCheck(*b));
  EXPECT_EQ(primary_->calls, 3);
  EXPECT_EQ(b->Stats().retries, 2u);
  primary_->fail_count = 3;
  auto st = ReadAndCheck(*b);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().ToString().find("sha256:" + blob_.IdHex()), std::string::npos);
  EXPECT_EQ(b->Stats().errors, 1u);
}

TEST_F(RegistryBackendTest, DoesNotRetryPermanentErrors) {
  primary_->fail = ErrorCode::kPermission;
  primary_->fail_count = 5;
  auto b = Make(false);
  auto st = ReadAndCheck(*b);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kPermission);
  EXPECT_EQ(primary_->calls, 1);
}

TEST_F(RegistryBackendTest, HedgeToTheMirrorWinsAndCancelsTheSlowPrimary) {
  options_.hedge_delay = milliseconds(50);
  primary_->delay = milliseconds(5000);
  auto b = Make();
  auto t0 = Clock::now();
  ASSERT_TRUE(ReadAndCheck(*b));
  auto took = Clock::now() - t0;
  EXPECT_GE(took, milliseconds(50));
  EXPECT_LT(took, milliseconds(1000));  // ~ the hedge delay, not the primary's 5 s
  EXPECT_EQ(primary_->cancelled, 1);
  auto s = b->Stats();
  EXPECT_EQ(s.hedges, 1u);
  EXPECT_EQ(s.hedges_won, 1u);
  EXPECT_EQ(s.requests, 2u);
}

TEST_F(RegistryBackendTest, FastAnswerFiresNoHedge) {
  options_.hedge_delay = milliseconds(500);
  auto b = Make();
  ASSERT_TRUE(ReadAndCheck(*b));
  EXPECT_EQ(b->Stats().hedges, 0u);
  EXPECT_EQ(mirror_->calls, 0);
}

TEST_F(RegistryBackendTest, HedgesOnASecondConnectionWithoutMirrors) {
  options_.hedge_delay = milliseconds(30);
  primary_->delay = milliseconds(200);
  auto b = Make(false);
  ASSERT_TRUE(ReadAndCheck(*b));
  EXPECT_EQ(primary_->calls, 2);
  EXPECT_EQ(b->Stats().hedges, 1u);
}

TEST_F(RegistryBackendTest, StalledEndpointsFailWithinTheTimeout) {
  options_.timeout = milliseconds(300);
  options_.hedge_delay = milliseconds(50);
  primary_->delay = milliseconds(60000);
  mirror_->delay = milliseconds(60000);
  auto b = Make();
  auto t0 = Clock::now();
  auto st = ReadAndCheck(*b);
  auto took = Clock::now() - t0;
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kTimeout);
  EXPECT_LT(took, milliseconds(300 + 500));
}

TEST_F(RegistryBackendTest, StalledEndpointWithoutHedgingFailsWithinTheTimeout) {
  options_.timeout = milliseconds(200);
  primary_->delay = milliseconds(60000);
  auto b = Make(false);
  auto t0 = Clock::now();
  ASSERT_FALSE(ReadAndCheck(*b));
  EXPECT_LT(Clock::now() - t0, milliseconds(200 + 500));
}

TEST_F(RegistryBackendTest, ConcurrentReadsAllSucceed) {
  options_.hedge_delay = milliseconds(5);
  primary_->delay = milliseconds(10);
  auto b = Make();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> out(64);
      uint64_t off = static_cast<uint64_t>(t) * 300;
      if (b->Read(blob_, off, out) && std::equal(out.begin(), out.end(), data_.begin() + off)) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
}

TEST_F(RegistryBackendTest, UpdatesCredentialsPerHostOrEverywhere) {
  auto b = Make();
  EXPECT_EQ(b->UpdateCredentials({"alice", "pw", ""}, "mirror:5000"), 1u);
  EXPECT_EQ(mirror_->user, "alice");
  EXPECT_EQ(primary_->user, "");
  EXPECT_EQ(b->UpdateCredentials({"bob", "pw", ""}), 2u);
  EXPECT_EQ(primary_->user, "bob");
}

}  // namespace
}  // namespace tessera::storage
