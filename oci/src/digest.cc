// Digests, content verification and platforms.
#include "tessera/common/digest.h"

#include <cstring>

#include "tessera/oci/image.h"

namespace tessera::oci {

Status ValidateDigest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.substr(0, kPrefix.size()) != kPrefix) {
    return MakeError(ErrorCode::kCorrupt, "digest: not sha256:<hex>");
  }
  std::string_view hex = digest.substr(kPrefix.size());
  if (hex.size() != 64) return MakeError(ErrorCode::kCorrupt, "digest: sha256 hex is not 64 chars");
  for (char c : hex) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!ok) return MakeError(ErrorCode::kCorrupt, "digest: not lowercase hex");
  }
  return Ok();
}

std::string DigestOf(std::span<const uint8_t> data) {
  Sha256Digest d = Sha256Of(data);
  return "sha256:" + ToHex(d);
}

Status VerifyContent(std::span<const uint8_t> data, std::string_view digest, uint64_t size,
                     std::string_view what) {
  if (data.size() != size) {
    return MakeError(ErrorCode::kCorrupt, std::string(what) + ": size " +
                                              std::to_string(data.size()) + ", expected " +
                                              std::to_string(size));
  }
  std::string actual = DigestOf(data);
  if (actual != digest) {
    return MakeError(ErrorCode::kCorrupt, std::string(what) + ": digest " + actual +
                                              " does not match " + std::string(digest));
  }
  return Ok();
}

std::string Platform::ToString() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

Result<Platform> Platform::Parse(std::string_view text) {
  Platform p;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() < 2 || parts.size() > 3) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "platform '" + std::string(text) + "': expected os/arch[/variant]");
  }
  for (const auto& part : parts) {
    if (part.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "platform '" + std::string(text) + "': empty component");
    }
  }
  p.os = parts[0];
  p.architecture = parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  return p;
}

bool Platform::Matches(const Platform& other) const {
  if (os != other.os || architecture != other.architecture) return false;
  return other.variant.empty() || other.variant == variant;
}

}  // namespace tessera::oci
