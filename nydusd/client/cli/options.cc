#include "options.h"

#include <CLI/CLI.hpp>

#include "tessera/nydusd_client/api.h"

namespace tessera::nydusd::client::cli {
namespace {

constexpr const char* kDescription =
    "tesseractl: query a running tesserad over its API socket.\n"
    "(tesseractl --address CONTAINERD_SOCK pull REF: pull a Tessera image into containerd.)\n"
    "Exit status: 0 success, 1 the daemon could not be reached or answered with an error,\n"
    "2 usage error.";

struct Parser {
  CLI::App app{kDescription, "tesseractl"};
  double timeout_seconds = 10;
  CLI::App* status = nullptr;
  CLI::App* metrics = nullptr;
  CLI::App* mounts = nullptr;
  CLI::App* auth = nullptr;

  explicit Parser(CtlOptions* opts) {
    app.fallthrough();             // global options are accepted after the command too
    app.require_subcommand(0, 1);  // a missing command gets our own message below
    app.set_version_flag("--version", "tesseractl 0.1.0");
    app.add_option("--apisock", opts->apisock, "tesserad API socket")
        ->envname("TESSERAD_APISOCK")
        ->default_str(std::string(kDefaultApiSocket));
    app.add_flag("--json", opts->json, "print JSON (status, mounts)");
    app.add_option("--timeout", timeout_seconds, "seconds to wait for an answer")
        ->default_val(10)
        ->check(CLI::Range(0.001, 3600.0));
    status = app.add_subcommand("status", "daemon state, version, uptime and mounts");
    metrics = app.add_subcommand("metrics", "Prometheus metrics, as served");
    mounts = app.add_subcommand("mounts", "served images, one per line");
    auth = app.add_subcommand("registry-auth", "give registry mounts new credentials (no remount)");
    auth->add_option("--user", opts->auth_user, "registry user name")->required();
    auth->add_option("--password-file", opts->auth_password_file, "file holding the password")
        ->required();
    auth->add_option("--mountpoint", opts->auth_mountpoint, "only this mount (default: all)");
    auth->add_option("--host", opts->auth_host, "only endpoints with this host[:port]");
  }
};

}  // namespace

Result<CtlOptions> ParseCtlOptions(int argc, const char* const* argv) {
  CtlOptions opts;
  try {
    Parser p(&opts);
    try {
      p.app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      opts.help = true;
      opts.help_text = p.app.help();
      return opts;
    } catch (const CLI::CallForVersion& e) {
      opts.help = true;
      opts.help_text = std::string(e.what()) + "\n";
      return opts;
    }
    if (opts.apisock.empty()) opts.apisock = std::string(kDefaultApiSocket);
    opts.timeout = std::chrono::milliseconds(static_cast<int64_t>(p.timeout_seconds * 1000));
    if (p.status->parsed()) opts.command = Command::kStatus;
    if (p.metrics->parsed()) opts.command = Command::kMetrics;
    if (p.mounts->parsed()) opts.command = Command::kMounts;
    if (p.auth->parsed()) opts.command = Command::kRegistryAuth;
    if (opts.command == Command::kNone) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "a command is required: status, metrics, mounts or registry-auth");
    }
    if (opts.json && opts.command == Command::kMetrics) {
      return MakeError(ErrorCode::kInvalidArgument, "--json: metrics are Prometheus text only");
    }
    return opts;
  } catch (const CLI::Error& e) {
    return MakeError(ErrorCode::kInvalidArgument, e.what());
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, e.what());
  }
}

}  // namespace tessera::nydusd::client::cli
