// Helpers shared by tessera-image subcommands: size parsing, progress, error exit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/common/result.h"

namespace tessera::builder::cli {

// "4096", "64K", "1M", "16MiB", "2G" -> bytes.
Result<uint64_t> ParseSize(std::string_view text);

// "12.3 MiB".
std::string HumanBytes(uint64_t bytes);

// Prints "tessera-image <cmd>: <error>" to stderr and returns exit code 1.
int Fail(std::string_view cmd, const Error& error);

// A one-line progress meter on stderr, shown only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(std::string label, bool enabled);
  ~Progress();
  void Update(uint64_t done, uint64_t total);

 private:
  std::string label_;
  bool enabled_;
  int64_t last_ms_ = 0;
  bool shown_ = false;
};

}  // namespace tessera::builder::cli
