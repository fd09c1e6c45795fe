#include "dump_options.h"

#include <string>
#include <string_view>
#include <vector>

namespace tessera::builder::cli {
namespace {

Error Usage(std::string what) { return MakeError(ErrorCode::kInvalidArgument, std::move(what)); }

}  // namespace

const char* DumpUsage() {
  return "usage: tessera-image dump [--help] [--json] [--device PATH]... IMAGE [PATH]\n"
         "\n"
         "Validates an EROFS image and prints its superblock, device table and entries.\n"
         "With PATH, prints only that entry (resolved without following symlinks) with its\n"
         "xattrs, chunk map and, when its data is readable, the SHA-256 of its content.\n"
         "\n"
         "options:\n"
         "  --json          print one JSON document instead of text\n"
         "  --device PATH   a file holding extra device k (repeat in device-table order;\n"
         "                  the count must match the image's extra_devices)\n"
         "  -h, --help      show this help\n"
         "\n"
         "exit status: 0 ok, 1 invalid image or I/O error, 2 usage error\n";
}

Result<DumpOptions> ParseDumpOptions(const std::vector<std::string>& args) {
  DumpOptions options;
  std::vector<std::string> operands;
  bool only_operands = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (only_operands || arg.empty() || arg[0] != '-' || arg == "-") {
      operands.emplace_back(arg);
    } else if (arg == "--") {
      only_operands = true;
    } else if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--device") {
      if (i + 1 >= args.size()) return Usage("--device needs a PATH");
      options.devices.push_back(args[++i]);
    } else if (arg.starts_with("--device=")) {
      const std::string_view value = arg.substr(9);
      if (value.empty()) return Usage("--device= needs a PATH");
      options.devices.emplace_back(value);
    } else {
      return Usage("unknown option '" + std::string(arg) + "'");
    }
  }
  if (options.help) return options;
  if (operands.empty()) return Usage("missing IMAGE");
  if (operands.size() > 2) return Usage("unexpected argument '" + operands[2] + "'");
  options.image = operands[0];
  if (operands.size() == 2) options.path = operands[1];
  return options;
}

}  // namespace tessera::builder::cli
