// tessera-image merge: layer bootstraps (lowest first) -> one image bootstrap.
#include <cstdio>

#include "cli_util.h"
#include "commands.h"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tessera/builder/image.h"

namespace tessera::builder::cli {

int RunMerge(int argc, char** argv) {
  CLI::App app{
      "Merges layer bootstraps (lowest first) into one image bootstrap with overlay "
      "semantics: whiteouts delete, opaque directories hide, upper layers win.",
      "tessera-image merge"};
  std::string output;
  std::vector<std::string> layers;
  int64_t timestamp = 0;
  bool json = false;
  app.add_option("--output", output, "image bootstrap to write")->required();
  app.add_option("LAYER_BOOTSTRAP", layers, "layer bootstraps, lowest first")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("-T,--timestamp", timestamp, "superblock time (default 0, reproducible)");
  app.add_flag("--json", json, "print the summary as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto result = MergeBootstraps(layers, output, timestamp);
  if (!result) return Fail("merge", result.error());
  if (json) {
    nlohmann::json j = {{"output", output},
                        {"layers", layers.size()},
                        {"blobs", result->blobs},
                        {"bootstrap_bytes", result->bootstrap_bytes}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("merged %zu layers into %s: %zu blobs, bootstrap %s\n", layers.size(),
                output.c_str(), result->blobs, HumanBytes(result->bootstrap_bytes).c_str());
  }
  return 0;
}

}  // namespace tessera::builder::cli
