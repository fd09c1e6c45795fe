#include "tar/tar_path.h"

#include <algorithm>
#include <cstdint>

namespace tessera::builder::internal {
namespace {

constexpr size_t kMaxComponent = 255;

}  // namespace

Result<std::vector<std::string>> SplitTarPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return MakeError(ErrorCode::kCorrupt, "name '" + std::string(path) +
                                                "' has a '..' component (would leave the root)");
    }
    if (part.size() > kMaxComponent) {
      return MakeError(ErrorCode::kUnsupported,
                       "name '" + std::string(path) + "' has a component of " +
                           std::to_string(part.size()) + " bytes (EROFS allows 255)");
    }
    parts.emplace_back(part);
  }
  return parts;
}

std::string JoinTarPath(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  count = std::min(count, parts.size());
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out;
}

}  // namespace tessera::builder::internal
