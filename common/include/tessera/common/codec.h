// Block compression codecs: zstd and lz4 (one-shot, bounded output).
//
// Thread-safety: the functions are reentrant; each call uses its own context.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tessera/common/result.h"

namespace tessera {

enum class Codec : uint8_t { kNone = 0, kZstd = 1, kLz4 = 2 };

std::string_view CodecName(Codec codec);
// Parses "none", "zstd", "lz4".
Result<Codec> ParseCodec(std::string_view name);

// Compresses input; level is codec-specific (zstd 1..22, lz4: <=0 fast, >0 HC level).
Result<std::vector<uint8_t>> Compress(Codec codec, std::span<const uint8_t> input, int level);

// Decompresses input into exactly out.size() bytes; any other size is kCorrupt.
Status Decompress(Codec codec, std::span<const uint8_t> input, std::span<uint8_t> out);

}  // namespace tessera
