#include <gtest/gtest.h>

#include <atomic>

#include "tessera/common/logging.h"
#include "tessera/common/thread_pool.h"

namespace tessera {
namespace {

TEST(LoggingTest, LogfmtAndJson) {
  Logger log(LogLevel::kInfo);
  std::string line = log.Format(LogLevel::kWarn, "chunk bad", {{"blob", "ab12"}, {"why", "a b"}});
  EXPECT_NE(line.find("level=warn msg=\"chunk bad\" blob=ab12 why=\"a b\"\n"), std::string::npos)
      << line;
  log.SetJson(true);
  line = log.Format(LogLevel::kError, "x\"y", {{"k", "v"}});
  EXPECT_NE(line.find("\"level\":\"error\",\"msg\":\"x\\\"y\",\"k\":\"v\"}"), std::string::npos)
      << line;
}

TEST(LoggingTest, QuietByDefault) {
  Logger log;
  EXPECT_FALSE(log.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.Enabled(LogLevel::kWarn));
  LogLevel l;
  ASSERT_TRUE(ParseLogLevel("debug", &l));
  EXPECT_EQ(l, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("loud", &l));
}

TEST(ThreadPoolTest, RunsEveryTask) {
  std::atomic<int> sum{0};
  {
    ThreadPool pool(3);
    for (int i = 1; i <= 1000; ++i) pool.Submit([&sum, i] { sum += i; });
    pool.Wait();
    EXPECT_EQ(sum.load(), 500500);
    for (int i = 0; i < 10; ++i) pool.Submit([&sum] { sum += 1; });
  }  // destructor drains the queue
  EXPECT_EQ(sum.load(), 500510);
}

}  // namespace
}  // namespace tessera
