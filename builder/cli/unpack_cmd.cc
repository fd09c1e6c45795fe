// tessera-image unpack: write an image's tree to a directory or a PAX tar file.
#include <sys/resource.h>

#include <cstdio>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tessera/builder/image.h"

namespace tessera::builder::cli {
namespace {

// The directory unpacker holds one fd per directory level (up to the reader's depth limit).
void RaiseFdLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

bool WantsTar(const std::string& format, const std::string& output) {
  if (format != "auto") return format == "tar";
  return output.size() > 4 && output.compare(output.size() - 4, 4, ".tar") == 0;
}

void Report(const UnpackStats& s, const std::string& output, bool tar, bool json) {
  if (json) {
    nlohmann::json j = {{"output", output},
                        {"format", tar ? "tar" : "dir"},
                        {"entries", s.entries},
                        {"bytes", s.bytes},
                        {"hardlinks", s.hardlinks},
                        {"skipped", s.skipped},
                        {"skipped_paths", s.skipped_paths}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("unpacked %llu entries (%s, %llu hard links) to %s\n",
                static_cast<unsigned long long>(s.entries), HumanBytes(s.bytes).c_str(),
                static_cast<unsigned long long>(s.hardlinks), output.c_str());
  }
  if (s.skipped > 0) {
    std::fprintf(stderr,
                 "tessera-image unpack: warning: skipped %llu sockets (tar cannot store them)",
                 static_cast<unsigned long long>(s.skipped));
    std::fprintf(stderr, ", first: %s\n", s.skipped_paths.front().c_str());
  }
}

}  // namespace

int RunUnpack(int argc, char** argv) {
  CLI::App app{
      "Writes the image's tree to a directory (created if missing, must be empty) or, for an "
      "output ending in .tar or with --format tar, to a PAX tar file.",
      "tessera-image unpack"};
  std::string bootstrap, blob_dir, output, format = "auto";
  bool json = false;
  app.add_option("--bootstrap", bootstrap, "bootstrap of the image")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--blob-dir", blob_dir, "directory holding the blobs (needed if it has any)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--output", output, "directory or FILE.tar to write")->required();
  app.add_option("--format", format, "auto (by --output's name), dir or tar")
      ->check(CLI::IsMember({"auto", "dir", "tar"}));
  app.add_flag("--json", json, "print the summary as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto image = Image::Open(bootstrap);
  if (!image) return Fail("unpack", image.error());
  if (blob_dir.empty() && !(*image)->tables().blobs.empty()) {
    std::fprintf(stderr, "tessera-image unpack: the image has %zu blobs: --blob-dir is required\n",
                 (*image)->tables().blobs.size());
    return 2;
  }
  if (!blob_dir.empty()) (*image)->AttachBlobDir(blob_dir);
  RaiseFdLimit();
  const bool tar = WantsTar(format, output);
  auto stats = tar ? UnpackToTar(**image, output) : UnpackToDir(**image, output);
  if (!stats) return Fail("unpack", stats.error());
  Report(*stats, output, tar, json);
  return 0;
}

}  // namespace tessera::builder::cli
