#include "cli_util.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>

namespace tessera::builder::cli {

Result<uint64_t> ParseSize(std::string_view text) {
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr == text.data()) {
    return MakeError(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' is not a size");
  }
  std::string_view unit(ptr, text.data() + text.size() - ptr);
  uint64_t mult = 1;
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else if (unit == "K" || unit == "k" || unit == "KiB") {
    mult = 1ull << 10;
  } else if (unit == "M" || unit == "MiB") {
    mult = 1ull << 20;
  } else if (unit == "G" || unit == "GiB") {
    mult = 1ull << 30;
  } else {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'" + std::string(text) + "': unknown unit (use K, M or G)");
  }
  if (value > UINT64_MAX / mult) {
    return MakeError(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' is too large");
  }
  return value * mult;
}

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

int Fail(std::string_view cmd, const Error& error) {
  std::fprintf(stderr, "tessera-image %.*s: %s\n", static_cast<int>(cmd.size()), cmd.data(),
               error.ToString().c_str());
  return 1;
}

Progress::Progress(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled && ::isatty(2)) {}

Progress::~Progress() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
}

void Progress::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  if (now - last_ms_ < 200) return;
  last_ms_ = now;
  shown_ = true;
  if (total > 0) {
    std::fprintf(stderr, "\r\033[K%s: %s / %s (%.0f%%)", label_.c_str(), HumanBytes(done).c_str(),
                 HumanBytes(total).c_str(), 100.0 * static_cast<double>(done) / total);
  } else {
    std::fprintf(stderr, "\r\033[K%s: %s", label_.c_str(), HumanBytes(done).c_str());
  }
}

}  // namespace tessera::builder::cli
