#include "pull.h"

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "tessera/ctrclient/pull.h"

namespace tessera::nydusd::client::cli {

bool IsPullCommand(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--address" || a == "--apisock" || a == "--timeout") {
      ++i;  // skip the option's value
      continue;
    }
    if (!a.starts_with("-")) return a == "pull";
  }
  return false;
}

int RunPull(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  ctrclient::PullOptions opts;
  CLI::App app{"tesseractl pull: pull a Tessera image into containerd with lazily served layers",
               "tesseractl"};
  app.fallthrough();
  app.add_option("--address", opts.address, "containerd gRPC socket")
      ->envname("CONTAINERD_ADDRESS")
      ->default_val("/run/containerd/containerd.sock");
  std::string ignored;
  app.add_option("--apisock,--timeout", ignored, "ignored by pull");
  CLI::App* pull = app.add_subcommand("pull", "pull REF");
  pull->add_flag("--plain-http", opts.plain_http, "talk to the registry over http");
  pull->add_option("--snapshotter", opts.snapshotter, "containerd snapshotter")
      ->default_val("tessera");
  pull->add_option("--namespace,-n", opts.ns, "containerd namespace")
      ->envname("CONTAINERD_NAMESPACE")
      ->default_val("default");
  pull->add_option("--docker-config", opts.docker_config, "docker config.json with credentials");
  pull->add_flag("--cri-labels", opts.cri_labels_only,
                 "label layers only as containerd's CRI plugin does (no Tessera markers)");
  pull->add_option("REF", opts.reference, "Tessera image reference")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::Error& e) {
    if (e.get_exit_code() == 0) {
      out << app.help();
      return 0;
    }
    err << "tesseractl: " << e.what() << "\n";
    return 2;
  }
  auto result = ctrclient::PullImage(opts);
  if (!result) {
    err << "tesseractl: pull " << opts.reference << ": " << result.error().ToString() << "\n";
    return 1;
  }
  out << "pulled " << result->image_name << " " << result->target_digest << ": " << result->layers
      << " layers (" << result->remote_layers << " prepared as remote), rootfs chain "
      << result->chain_id << "\n";
  return 0;
}

}  // namespace tessera::nydusd::client::cli
