// Command-line options of `tessera-image mkfs`, parsed without global state so that tests
// can call the parser directly.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/common/result.h"

namespace tessera::builder::cli {

struct MkfsOptions {
  bool help = false;
  bool json = false;
  std::optional<int64_t> timestamp;             // -T/--timestamp
  std::optional<std::array<uint8_t, 16>> uuid;  // --uuid
  std::string label;                            // --label (≤ 15 bytes)
  bool skip_unsupported_xattrs = false;         // --skip-unsupported-xattrs
  std::string source;
  std::string image;
};

// The --help text.
std::string_view MkfsUsage();

// Parses the arguments after the subcommand name (argv[0] is "mkfs"). A usage error is a
// kInvalidArgument Error whose context is the message to print.
Result<MkfsOptions> ParseMkfsOptions(int argc, const char* const* argv);

// "0123abcd-..." (36 chars) or 32 hex digits.
Result<std::array<uint8_t, 16>> ParseUuid(std::string_view text);

}  // namespace tessera::builder::cli
