// The persisted ready bitmap of one device cache: one bit per extent, with a header naming the
// extent layout it belongs to (a fingerprint) and a checksum.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/common/digest.h"
#include "tessera/common/result.h"

namespace tessera::storage::cache_internal {

// Loads the bits for `count` extents; any mismatch (missing file, other fingerprint, bad
// checksum, wrong size) gives all-zero bits and sets *rebuilt.
std::vector<uint8_t> LoadBitmap(const std::string& path, const Sha256Digest& fingerprint,
                                uint32_t count, bool* rebuilt);

// Writes atomically (temporary file + rename).
Status SaveBitmap(const std::string& path, const Sha256Digest& fingerprint,
                  const std::vector<uint8_t>& bits, uint32_t count);

}  // namespace tessera::storage::cache_internal
