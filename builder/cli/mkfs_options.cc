#include "mkfs_options.h"

#include <charconv>
#include <functional>
#include <vector>

namespace tessera::builder::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: tessera-image mkfs [options] SOURCE_DIR IMAGE\n"
    "\n"
    "Builds a plain EROFS image (4 KiB blocks, file data stored in the image) from a\n"
    "directory. The image is written to IMAGE.tmp and renamed to IMAGE when complete.\n"
    "\n"
    "options:\n"
    "  -T, --timestamp SECS        superblock build time (default: $SOURCE_DATE_EPOCH or now);\n"
    "                              inodes whose mtime equals it are stored compactly\n"
    "      --uuid UUID             volume UUID (default: random)\n"
    "      --label NAME            volume label, at most 15 bytes\n"
    "      --skip-unsupported-xattrs\n"
    "                              drop xattrs EROFS cannot store instead of failing\n"
    "      --json                  print the summary as JSON\n"
    "  -h, --help                  show this help\n";

Error Usage(std::string message) { return MakeError(ErrorCode::kInvalidArgument, message); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<int64_t> ParseSeconds(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return Usage("--timestamp: '" + std::string(text) + "' is not a number of seconds");
  }
  return value;
}

// Splits "--name=value" and looks up the value of options that take one.
struct ArgCursor {
  int argc;
  const char* const* argv;
  int i = 1;

  Result<std::string_view> Value(std::string_view flag, std::optional<std::string_view> inline_v) {
    if (inline_v) return *inline_v;
    if (i + 1 >= argc) return Usage(std::string(flag) + " needs a value");
    return std::string_view(argv[++i]);
  }
};

Status ApplyValueOption(std::string_view name, std::string_view value, MkfsOptions& opts) {
  if (name == "-T" || name == "--timestamp") {
    TRY(opts.timestamp, ParseSeconds(value));
  } else if (name == "--uuid") {
    TRY(opts.uuid, ParseUuid(value));
  } else if (name == "--label") {
    if (value.size() > 15) return Usage("--label: longer than 15 bytes");
    opts.label = std::string(value);
  }
  return Ok();
}

Status ApplyOption(ArgCursor& cur, std::string_view arg, MkfsOptions& opts) {
  std::optional<std::string_view> inline_v;
  std::string_view name = arg;
  if (arg.starts_with("--") && arg.find('=') != std::string_view::npos) {
    name = arg.substr(0, arg.find('='));
    inline_v = arg.substr(arg.find('=') + 1);
  } else if (arg.starts_with("-T") && arg.size() > 2) {
    name = "-T";
    inline_v = arg.substr(2);
  }
  if (name == "-h" || name == "--help") {
    opts.help = true;
  } else if (name == "--json") {
    opts.json = true;
  } else if (name == "--skip-unsupported-xattrs") {
    opts.skip_unsupported_xattrs = true;
  } else if (name == "-T" || name == "--timestamp" || name == "--uuid" || name == "--label") {
    TRY(std::string_view value, cur.Value(name, inline_v));
    return ApplyValueOption(name, value, opts);
  } else {
    return Usage("unknown option '" + std::string(arg) + "'");
  }
  if (inline_v) return Usage("option '" + std::string(name) + "' takes no value");
  return Ok();
}

}  // namespace

std::string_view MkfsUsage() { return kUsage; }

Result<std::array<uint8_t, 16>> ParseUuid(std::string_view text) {
  std::array<uint8_t, 16> out{};
  const bool dashed = text.size() == 36;
  if (!dashed && text.size() != 32)
    return Usage("--uuid: '" + std::string(text) + "' is not a UUID");
  size_t byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (text[i] != '-') return Usage("--uuid: '" + std::string(text) + "' is not a UUID");
      ++i;
      continue;
    }
    const int hi = HexValue(text[i]);
    const int lo = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
    if (hi < 0 || lo < 0 || byte >= out.size()) {
      return Usage("--uuid: '" + std::string(text) + "' is not a UUID");
    }
    out[byte++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

Result<MkfsOptions> ParseMkfsOptions(int argc, const char* const* argv) {
  MkfsOptions opts;
  std::vector<std::string_view> positional;
  ArgCursor cur{argc, argv};
  bool options_done = false;
  for (; cur.i < argc; ++cur.i) {
    const std::string_view arg = argv[cur.i];
    if (!options_done && arg == "--") {
      options_done = true;
    } else if (!options_done && arg.size() > 1 && arg[0] == '-') {
      RETURN_IF_ERROR(ApplyOption(cur, arg, opts));
    } else {
      positional.push_back(arg);
    }
  }
  if (opts.help) return opts;
  if (positional.size() != 2) {
    return Usage("expected SOURCE_DIR and IMAGE, got " + std::to_string(positional.size()) +
                 " argument(s)");
  }
  opts.source = std::string(positional[0]);
  opts.image = std::string(positional[1]);
  return opts;
}

}  // namespace tessera::builder::cli
