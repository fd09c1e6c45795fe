#include "options.h"

#include <CLI/CLI.hpp>

namespace tessera::snapshotter::cli {
namespace {

constexpr const char* kDescription =
    "tessera-snapshotter: containerd snapshotter (proxy plugin) serving the snapshots gRPC API\n"
    "on a unix socket. See docs/snapshotter.md. Exit status: 0 stopped by SIGTERM/SIGINT,\n"
    "1 failure, 2 usage error.";

struct Flags {
  std::string root, address, config_file, log_level;
};

}  // namespace

Result<SnapshotterCliOptions> ParseOptions(int argc, const char* const* argv) {
  SnapshotterCliOptions opts;
  Flags flags;
  try {
    CLI::App app{kDescription, "tessera-snapshotter"};
    app.set_version_flag("--version", "tessera-snapshotter 0.1.0");
    app.add_option("--root", flags.root, "state directory (metadata and snapshots)");
    app.add_option("--address", flags.address, "unix socket to serve the snapshots API on");
    app.add_option("--config", flags.config_file, "JSON config file");
    app.add_option("--log-level", flags.log_level, "debug, info, warn, error or off");
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      opts.help = true;
      opts.help_text = app.help();
      return opts;
    } catch (const CLI::CallForVersion& e) {
      opts.help = true;
      opts.help_text = std::string(e.what()) + "\n";
      return opts;
    }
  } catch (const CLI::Error& e) {
    return MakeError(ErrorCode::kInvalidArgument, e.what());
  }
  if (!flags.config_file.empty()) {
    TRY(opts.config, LoadConfigFile(flags.config_file));
  }
  // Flags win over the file, with the same validation.
  const std::pair<const char*, const std::string*> overrides[] = {
      {"root", &flags.root}, {"address", &flags.address}, {"log_level", &flags.log_level}};
  for (const auto& [key, value] : overrides) {
    if (!value->empty()) RETURN_IF_ERROR_CTX(SetConfigString(key, *value, &opts.config), "flag");
  }
  return opts;
}

}  // namespace tessera::snapshotter::cli
