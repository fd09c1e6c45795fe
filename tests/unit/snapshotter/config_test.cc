// Config file parsing and command-line options of tessera-snapshotter.
#include "tessera/snapshotter/config.h"

#include <gtest/gtest.h>

#include "options.h"

namespace tessera::snapshotter {
namespace {

TEST(ConfigTest, ParsesEveryKey) {
  auto c = ParseConfig(R"({"root": "/r", "address": "/s.sock", "log_level": "debug",
                          "daemon_mode": "per-image", "tesserad_path": "/bin/tesserad",
                          "cache_limit": 1024, "plain_http_loopback": false,
                          "docker_config": "/etc/docker.json"})");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->root, "/r");
  EXPECT_EQ(c->address, "/s.sock");
  EXPECT_EQ(c->log_level, LogLevel::kDebug);
  EXPECT_EQ(c->daemon_mode, DaemonMode::kPerImage);
  EXPECT_EQ(c->tesserad_path, "/bin/tesserad");
  EXPECT_EQ(c->cache_limit, 1024u);
  EXPECT_FALSE(c->plain_http_loopback);
  EXPECT_EQ(c->docker_config, "/etc/docker.json");
}

TEST(ConfigTest, AbsentKeysKeepDefaults) {
  auto c = ParseConfig("{}");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->root, Config{}.root);
  EXPECT_EQ(c->daemon_mode, DaemonMode::kShared);
  EXPECT_TRUE(c->plain_http_loopback);
  EXPECT_TRUE(c->docker_config.empty());
}

TEST(ConfigTest, RejectsBadInputNamingTheKey) {
  for (const char* bad :
       {R"({"root": "relative"})", R"({"root": 5})", R"({"nope": 1})", R"({"log_level": "loud"})",
        R"({"daemon_mode": "many"})", R"({"cache_limit": -1})", R"({"cache_limit": "1G"})",
        R"({"plain_http_loopback": "yes"})", R"({"docker_config": 1})", "[]", "{", ""}) {
    auto c = ParseConfig(bad);
    ASSERT_FALSE(c.has_value()) << bad;
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseConfig(R"({"nope": 1})").error().context.find("nope"), std::string::npos);
}

TEST(OptionsTest, FlagsOverrideDefaults) {
  const char* argv[] = {"tessera-snapshotter", "--root", "/x", "--address", "/y.sock",
                        "--log-level",         "warn"};
  auto o = cli::ParseOptions(7, argv);
  ASSERT_TRUE(o.has_value()) << o.error().ToString();
  EXPECT_EQ(o->config.root, "/x");
  EXPECT_EQ(o->config.address, "/y.sock");
  EXPECT_EQ(o->config.log_level, LogLevel::kWarn);
  EXPECT_FALSE(o->help);
}

TEST(OptionsTest, UsageErrors) {
  const char* relative[] = {"tessera-snapshotter", "--root", "rel"};
  EXPECT_EQ(cli::ParseOptions(3, relative).error().code, ErrorCode::kInvalidArgument);
  const char* unknown[] = {"tessera-snapshotter", "--bogus"};
  EXPECT_EQ(cli::ParseOptions(2, unknown).error().code, ErrorCode::kInvalidArgument);
  const char* missing[] = {"tessera-snapshotter", "--config", "/nonexistent/file.json"};
  EXPECT_FALSE(cli::ParseOptions(3, missing).has_value());
  const char* help[] = {"tessera-snapshotter", "--help"};
  auto h = cli::ParseOptions(2, help);
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->help);
  EXPECT_NE(h->help_text.find("--address"), std::string::npos);
}

}  // namespace
}  // namespace tessera::snapshotter
