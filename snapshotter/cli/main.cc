// tessera-snapshotter: containerd's snapshots API on a unix socket (see docs/snapshotter.md).
#include <cstdio>

#include "options.h"

#include "tessera/common/logging.h"
#include "tessera/snapshotter/server.h"

int main(int argc, char** argv) {
  auto options = tessera::snapshotter::cli::ParseOptions(argc, argv);
  if (!options) {
    std::fprintf(stderr, "tessera-snapshotter: %s\n", options.error().context.c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(options->help_text.c_str(), stdout);
    return 0;
  }
  tessera::Logger logger(options->config.log_level);
  tessera::Status st = tessera::snapshotter::Serve(options->config, &logger);
  if (!st) {
    logger.Error("tessera-snapshotter failed", {{"error", st.error().ToString()}});
    return 1;
  }
  return 0;
}
