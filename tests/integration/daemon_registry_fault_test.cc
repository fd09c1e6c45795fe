// tesserad --image through a fault-injecting proxy (tests/support/fault_proxy.h) in front of a
// real registry: resets, 5xx and short bodies are retried and the reader gets the right bytes;
// a byte flipped on every try is EIO, never wrong data; a stalled server is EIO within the
// configured timeout; a slow answer is hedged; a failing primary fails over to the mirror.
#include <random>

#include "daemon_registry_fixture.h"
#include "support/fault_proxy.h"

#include "tessera/common/io.h"

namespace tessera::testing {
namespace {

using Mode = test::Fault::Mode;
using std::chrono::milliseconds;

class DaemonRegistryFaultTest : public DaemonRegistryTest {
 protected:
  // 8 distinct 1 MiB files (one frame each) pushed to a registry behind a proxy.
  void SetUpImage() {
    src_ = Path("src");
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    std::mt19937_64 rng(5);
    std::vector<uint8_t> data(1 << 20);
    for (int f = 0; f < 8; ++f) {
      for (auto& b : data) b = static_cast<uint8_t>(rng() % 11);
      ASSERT_TRUE(WriteFile(src_ + "/file" + std::to_string(f), data));
    }
    ASSERT_NO_FATAL_FAILURE(StartRegistry());
    ASSERT_FALSE(PushImage(src_, "tessera/faults", "v1").empty());
    auto p = test::FaultProxy::Start(registry_->host());
    ASSERT_TRUE(p) << p.error().ToString();
    proxy_ = std::move(*p);
    ref_ = proxy_->host() + "/tessera/faults:v1";
  }
  // Reads file<n> and expects exactly the source bytes.
  void ExpectFile(int n) {
    std::string name = "file" + std::to_string(n);
    auto got = ReadAll(name);
    ASSERT_TRUE(got) << name << ": " << got.error().ToString() << "\n" << DaemonLog();
    EXPECT_TRUE(*got == *ReadFile(src_ + "/" + name)) << name << ": wrong bytes";
  }

  std::string src_, ref_;
  std::unique_ptr<test::FaultProxy> proxy_;
};

TEST_F(DaemonRegistryFaultTest, RetriesResetsServerErrorsAndShortBodies) {
  SetUpImage();
  ASSERT_EQ(StartImageDaemon(ref_, {"--plain-http", "--retry-limit", "3"}), -1);
  proxy_->SetFault({.mode = Mode::kReset, .after_bytes = 1000, .count = 1});
  ExpectFile(0);
  proxy_->SetFault({.mode = Mode::k503, .count = 2});
  ExpectFile(1);
  proxy_->SetFault({.mode = Mode::kTruncate, .after_bytes = 4096, .count = 1});
  ExpectFile(2);
  auto c = proxy_->counters();
  EXPECT_EQ(c.resets, 1u);
  EXPECT_EQ(c.unavailable, 2u);
  EXPECT_EQ(c.truncations, 1u);
  EXPECT_GE(Metric("tessera_registry_retries_total"), 4);
  EXPECT_EQ(Metric("tessera_chunk_corrupt_total"), 0);
  StopDaemon();
}

TEST_F(DaemonRegistryFaultTest, FlippedByteIsNeverServed) {
  SetUpImage();
  ASSERT_EQ(StartImageDaemon(ref_, {"--plain-http"}), -1);
  // Every answer damaged: EIO, never the damaged bytes.
  proxy_->SetFault({.mode = Mode::kFlipByte, .after_bytes = 777});
  auto got = ReadAll("file3");
  ASSERT_FALSE(got) << "served damaged data";
  EXPECT_EQ(got.error().sys_errno, EIO);
  EXPECT_GE(Metric("tessera_chunk_corrupt_total"), 1);
  // Once the damage stops, the same file reads correctly (nothing bad was cached).
  proxy_->Clear();
  ExpectFile(3);
  StopDaemon();
}

TEST_F(DaemonRegistryFaultTest, ByteFlippedOnceIsFetchedAgain) {
  SetUpImage();
  ASSERT_EQ(StartImageDaemon(ref_, {"--plain-http"}), -1);
  proxy_->SetFault({.mode = Mode::kFlipByte, .after_bytes = 4242, .count = 1});
  ExpectFile(6);
  EXPECT_EQ(proxy_->counters().flips, 1u);
  EXPECT_GE(Metric("tessera_chunk_corrupt_total"), 1);
  StopDaemon();
}

TEST_F(DaemonRegistryFaultTest, StalledServerIsEioWithinTheTimeout) {
  SetUpImage();
  constexpr int kTimeoutMs = 2000;
  ASSERT_EQ(
      StartImageDaemon(ref_, {"--plain-http", "--registry-timeout-ms", std::to_string(kTimeoutMs)}),
      -1);
  proxy_->SetFault({.mode = Mode::kStall});
  TimedRead r = Read("file4");
  ASSERT_FALSE(r.bytes);
  EXPECT_EQ(r.bytes.error().sys_errno, EIO);
  // One backend read is bounded by the timeout; the kernel may ask twice (readahead + read).
  EXPECT_LT(r.took, milliseconds(2 * kTimeoutMs + 1500)) << r.took.count() << " ms";
  std::printf("stall: EIO after %lld ms (timeout %d ms)\n", static_cast<long long>(r.took.count()),
              kTimeoutMs);
  proxy_->Clear();
  ExpectFile(4);
  StopDaemon();
}

TEST_F(DaemonRegistryFaultTest, SlowAnswerIsHedgedOnASecondConnection) {
  SetUpImage();
  ASSERT_EQ(StartImageDaemon(ref_, {"--plain-http", "--hedge-delay-ms", "100"}), -1);
  proxy_->SetFault({.mode = Mode::kDelay, .delay = milliseconds(5000), .count = 1});
  TimedRead r = Read("file5");
  ASSERT_TRUE(r.bytes) << r.bytes.error().ToString();
  EXPECT_TRUE(*r.bytes == *ReadFile(src_ + "/file5"));
  EXPECT_LT(r.took, milliseconds(2500)) << "waited for the slow answer";
  EXPECT_GE(Metric("tessera_registry_hedges_total"), 1);
  std::printf("hedge: read in %lld ms with a 5000 ms slow first answer\n",
              static_cast<long long>(r.took.count()));
  StopDaemon();
}

TEST_F(DaemonRegistryFaultTest, FailingPrimaryFailsOverToTheMirror) {
  SetUpImage();
  ASSERT_EQ(StartImageDaemon(ref_, {"--plain-http", "--mirror", registry_->host()}), -1);
  proxy_->SetFault({.mode = Mode::k503});
  for (int f = 0; f < 5; ++f) ExpectFile(f);
  EXPECT_GE(Metric("tessera_registry_mirror_failovers_total"), 5);
  // After three failures in a row the primary is skipped: no further requests reach it.
  EXPECT_EQ(proxy_->counters().range_requests, 3u);
  StopDaemon();
}

}  // namespace
}  // namespace tessera::testing
