// tessera-image export: write each blob's decompressed raw device, mountable by the kernel.
#include <cstdio>

#include "cli_util.h"
#include "commands.h"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tessera/builder/image.h"

namespace tessera::builder::cli {

int RunExport(int argc, char** argv) {
  CLI::App app{
      "Writes DIR/<blob id>.raw for each blob: the bootstrap mounts with them as its "
      "devices (mount(2) with device=RAW1,device=RAW2,...).",
      "tessera-image export"};
  std::string bootstrap, blob_dir, output;
  bool json = false;
  app.add_option("--bootstrap", bootstrap, "bootstrap of the image")->required();
  app.add_option("--blob-dir", blob_dir, "directory holding the blobs")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--output", output, "directory for the raw device files")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_flag("--json", json, "print the written files as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto image = Image::Open(bootstrap);
  if (!image) return Fail("export", image.error());
  (*image)->AttachBlobDir(blob_dir);
  Progress progress("exporting", !json);
  auto result = ExportRawDevices(**image, output, [&progress](uint64_t done, uint64_t total) {
    progress.Update(done, total);
  });
  if (!result) return Fail("export", result.error());
  if (json) {
    nlohmann::json j = {{"devices", result->raw_paths}, {"bytes_written", result->bytes_written}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (const auto& p : result->raw_paths) std::printf("%s\n", p.c_str());
  }
  return 0;
}

}  // namespace tessera::builder::cli
