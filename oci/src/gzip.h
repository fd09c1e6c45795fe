// gzip compression (deterministic: no name, mtime 0) and bounded decompression over zlib.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/common/result.h"

namespace tessera::oci::internal {

std::vector<uint8_t> GzipCompress(std::span<const uint8_t> data);
// Decompresses one or more concatenated gzip members; kCorrupt if damaged or truncated,
// kTooLarge past max_output bytes.
Result<std::vector<uint8_t>> GzipDecompress(std::span<const uint8_t> data, size_t max_output);
bool IsGzip(std::span<const uint8_t> data);

}  // namespace tessera::oci::internal
