// tessera-image: builds and inspects Tessera images. Dispatches to one subcommand.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.h"

namespace {

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

constexpr Subcommand kSubcommands[] = {
    {"create", "turn a directory or layer tar into a blob and a bootstrap",
     tessera::builder::cli::RunCreate},
    {"check", "validate a bootstrap and its blobs", tessera::builder::cli::RunCheck},
    {"inspect", "print a bootstrap's blobs and statistics", tessera::builder::cli::RunInspect},
    {"export", "write blobs as raw devices the kernel mounts", tessera::builder::cli::RunExport},
    {"unpack", "write an image's tree to a directory or a tar file",
     tessera::builder::cli::RunUnpack},
    {"merge", "merge layer bootstraps into an image bootstrap", tessera::builder::cli::RunMerge},
    {"convert", "convert an OCI image (layout or registry) into a Tessera image",
     tessera::builder::cli::RunConvert},
    {"stat", "deduplication statistics across bootstraps", tessera::builder::cli::RunStat},
    {"mkfs", "build a plain EROFS image from a directory", tessera::builder::cli::RunMkfs},
    {"dump", "print an EROFS image's superblock and tree", tessera::builder::cli::RunDump},
};

void PrintUsage(FILE* out) {
  std::fprintf(out, "usage: tessera-image <command> [options]\n\ncommands:\n");
  for (const auto& sub : kSubcommands) std::fprintf(out, "  %-8s %s\n", sub.name, sub.summary);
  std::fprintf(out, "\nRun 'tessera-image <command> --help' for a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    PrintUsage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("tessera-image 0.1.0\n");
    return 0;
  }
  for (const auto& sub : kSubcommands) {
    if (cmd == sub.name) return sub.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "tessera-image: unknown command '%s'\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
