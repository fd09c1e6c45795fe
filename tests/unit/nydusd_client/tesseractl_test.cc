// tesseractl: option parsing (cli/options.cc) and the commands (cli/commands.cc) against a fake
// tesserad (fake_daemon.h, a mock until the real daemon exists).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <sstream>
#include <vector>

#include "commands.h"
#include "fake_daemon.h"
#include "options.h"

namespace tessera::nydusd::client::cli {
namespace {

using testing::FakeDaemon;

Result<CtlOptions> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "tesseractl");
  return ParseCtlOptions(static_cast<int>(args.size()), args.data());
}

struct CtlRun {
  int code;
  std::string out;
  std::string err;
};

CtlRun RunArgs(std::vector<const char*> args) {
  auto options = Parse(std::move(args));
  EXPECT_TRUE(options) << options.error().ToString();
  if (!options) return {2, "", ""};
  std::ostringstream out, err;
  int code = RunCtl(*options, out, err);
  return {code, out.str(), err.str()};
}

MountInfo Mount(std::string mountpoint, uint64_t ready, uint64_t total) {
  MountInfo m;
  m.mountpoint = std::move(mountpoint);
  m.bootstrap = "/img/boot";
  m.chunks_ready = ready;
  m.chunks_total = total;
  m.fully_cached = ready == total;
  return m;
}

TEST(TesseractlOptionsTest, DefaultsAndGlobalOptionsAnywhere) {
  ::unsetenv("TESSERAD_APISOCK");
  auto o = Parse({"status"});
  ASSERT_TRUE(o) << o.error().ToString();
  EXPECT_EQ(o->command, Command::kStatus);
  EXPECT_EQ(o->apisock, "/run/tesserad/api.sock");
  EXPECT_FALSE(o->json);
  EXPECT_EQ(o->timeout, std::chrono::seconds(10));

  auto before = Parse({"--apisock", "/tmp/a.sock", "--json", "mounts"});
  ASSERT_TRUE(before) << before.error().ToString();
  EXPECT_EQ(before->command, Command::kMounts);
  EXPECT_EQ(before->apisock, "/tmp/a.sock");
  EXPECT_TRUE(before->json);

  auto after = Parse({"status", "--json", "--apisock=/tmp/b.sock", "--timeout", "0.5"});
  ASSERT_TRUE(after) << after.error().ToString();
  EXPECT_EQ(after->apisock, "/tmp/b.sock");
  EXPECT_TRUE(after->json);
  EXPECT_EQ(after->timeout, std::chrono::milliseconds(500));
}

TEST(TesseractlOptionsTest, EnvironmentSetsTheSocket) {
  ::setenv("TESSERAD_APISOCK", "/tmp/env.sock", 1);
  auto o = Parse({"metrics"});
  auto flag = Parse({"--apisock", "/tmp/flag.sock", "metrics"});
  ::unsetenv("TESSERAD_APISOCK");
  ASSERT_TRUE(o && flag);
  EXPECT_EQ(o->apisock, "/tmp/env.sock");
  EXPECT_EQ(flag->apisock, "/tmp/flag.sock");
}

TEST(TesseractlOptionsTest, RegistryAuthNeedsUserAndPasswordFile) {
  auto o = Parse({"registry-auth", "--user", "u", "--password-file", "/p", "--host", "h:5000"});
  ASSERT_TRUE(o) << o.error().ToString();
  EXPECT_EQ(o->command, Command::kRegistryAuth);
  EXPECT_EQ(o->auth_user, "u");
  EXPECT_EQ(o->auth_password_file, "/p");
  EXPECT_EQ(o->auth_host, "h:5000");
  EXPECT_TRUE(o->auth_mountpoint.empty());
  EXPECT_FALSE(Parse({"registry-auth", "--user", "u"}));
}

TEST(TesseractlOptionsTest, UsageErrorsAndHelp) {
  for (auto args : std::vector<std::vector<const char*>>{{},
                                                         {"bogus"},
                                                         {"status", "extra"},
                                                         {"metrics", "--json"},
                                                         {"--timeout", "0", "status"},
                                                         {"--apisock"},
                                                         {"status", "mounts"}}) {
    auto o = Parse(args);
    EXPECT_FALSE(o) << (args.empty() ? "(none)" : args[0]);
    if (!o) {
      EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument);
    }
  }
  auto help = Parse({"--help"});
  ASSERT_TRUE(help);
  EXPECT_TRUE(help->help);
  EXPECT_NE(help->help_text.find("--apisock"), std::string::npos);
  EXPECT_NE(help->help_text.find("status"), std::string::npos);
  auto sub_help = Parse({"mounts", "--help"});
  ASSERT_TRUE(sub_help);
  EXPECT_TRUE(sub_help->help);
}

TEST(TesseractlTest, StatusIsHumanReadable) {
  FakeDaemon daemon;
  daemon.AddMount(Mount("/mnt/a", 12, 40));
  daemon.AddMount(Mount("/mnt/b", 40, 40));
  daemon.Start();
  CtlRun r = RunArgs({"--apisock", daemon.socket().c_str(), "status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "state:    running\n"
            "version:  0.1.0\n"
            "pid:      4242\n"
            "uptime:   1d 2h 3m 4s\n"
            "socket:   " +
                daemon.socket() +
                "\n"
                "backend:  localfs\n"
                "cache:    /var/cache/tessera (limit 10.0 GiB)\n"
                "mounts:   2\n"
                "  /mnt/a fuse 12/40 chunks cached (30%) bootstrap=/img/boot\n"
                "  /mnt/b fuse fully cached bootstrap=/img/boot\n");
}

TEST(TesseractlTest, StatusJsonIsTheDocumentedShape) {
  FakeDaemon daemon;
  daemon.Start();
  CtlRun r = RunArgs({"status", "--json", "--apisock", daemon.socket().c_str()});
  EXPECT_EQ(r.code, 0) << r.err;
  auto info = DecodeDaemonInfo(r.out);
  ASSERT_TRUE(info) << info.error().ToString() << "\n" << r.out;
  EXPECT_EQ(info->version, "0.1.0");
}

TEST(TesseractlTest, MountsOnePerLineAndJson) {
  FakeDaemon daemon;
  daemon.AddMount(Mount("/mnt/a", 0, 0));
  daemon.AddMount(Mount("/mnt/b", 1, 3));
  daemon.Start();
  CtlRun r = RunArgs({"--apisock", daemon.socket().c_str(), "mounts"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "/mnt/a fuse fully cached bootstrap=/img/boot\n"
            "/mnt/b fuse 1/3 chunks cached (33%) bootstrap=/img/boot\n");
  CtlRun j = RunArgs({"--apisock", daemon.socket().c_str(), "mounts", "--json"});
  EXPECT_EQ(j.code, 0) << j.err;
  auto list = DecodeMountList(j.out);
  ASSERT_TRUE(list) << list.error().ToString();
  EXPECT_EQ(list->size(), 2u);
}

TEST(TesseractlTest, MetricsAreRaw) {
  FakeDaemon daemon;
  daemon.Start();
  CtlRun r = RunArgs({"--apisock", daemon.socket().c_str(), "metrics"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "# HELP tessera_backend_read_bytes_total Bytes.\n"
            "# TYPE tessera_backend_read_bytes_total counter\n"
            "tessera_backend_read_bytes_total 1234\n");
}

TEST(TesseractlTest, UnreachableDaemonExits1WithAClearMessage) {
  FakeDaemon daemon;  // not started: no socket
  for (const char* cmd : {"status", "metrics", "mounts"}) {
    CtlRun r = RunArgs({"--apisock", daemon.socket().c_str(), cmd});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "tesseractl: unavailable: tesserad is not running at " + daemon.socket() +
                         " (No such file or directory)\n");
  }
}

TEST(TesseractlTest, FormatDuration) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(42), "42s");
  EXPECT_EQ(FormatDuration(3600), "1h 0m 0s");
  EXPECT_EQ(FormatDuration(86400 + 5), "1d 0h 0m 5s");
}

}  // namespace
}  // namespace tessera::nydusd::client::cli
