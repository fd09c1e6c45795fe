// tessera-image check: validate a bootstrap and (with --blob-dir) every chunk of its blobs.
#include <cstdio>

#include "cli_util.h"
#include "commands.h"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tessera/builder/image.h"

namespace tessera::builder::cli {

int RunCheck(int argc, char** argv) {
  CLI::App app{"Validates a bootstrap and, with --blob-dir, every frame and chunk of its blobs.",
               "tessera-image check"};
  std::string bootstrap, blob_dir;
  bool json = false;
  app.add_option("--bootstrap", bootstrap, "bootstrap to check")->required();
  app.add_option("--blob-dir", blob_dir, "directory holding the blobs")
      ->check(CLI::ExistingDirectory);
  app.add_flag("--json", json, "print the report as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto image = Image::Open(bootstrap);
  if (!image) return Fail("check", image.error());
  CheckReport r = CheckImage(**image, blob_dir);
  if (json) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& p : r.problems) {
      problems.push_back(
          {{"where", p.where}, {"chunk", p.chunk}, {"offset", p.offset}, {"message", p.message}});
    }
    nlohmann::json j = {{"ok", r.problems.empty()},
                        {"inodes", r.inodes},
                        {"chunk_refs", r.chunk_refs},
                        {"blobs_checked", r.blobs_checked},
                        {"frames_checked", r.frames_checked},
                        {"chunks_verified", r.chunks_verified},
                        {"problems", problems}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (const auto& p : r.problems) {
      std::printf("problem: %s", p.where.c_str());
      if (p.chunk >= 0) std::printf(" chunk %lld", static_cast<long long>(p.chunk));
      std::printf(" offset %llu: %s\n", static_cast<unsigned long long>(p.offset),
                  p.message.c_str());
    }
    std::printf(
        "%s: %llu inodes, %llu chunk references, %llu blobs, %llu frames, %llu chunks "
        "verified, %zu problems\n",
        r.problems.empty() ? "ok" : "FAILED", static_cast<unsigned long long>(r.inodes),
        static_cast<unsigned long long>(r.chunk_refs),
        static_cast<unsigned long long>(r.blobs_checked),
        static_cast<unsigned long long>(r.frames_checked),
        static_cast<unsigned long long>(r.chunks_verified), r.problems.size());
  }
  return r.problems.empty() ? 0 : 1;
}

}  // namespace tessera::builder::cli
