// Deterministic file content for tests: pseudo-random, text-like (compressible), zeros, or a
// mix, addressable by offset so a test can recompute any byte range without storing the file.
//
// Thread-safety: pure functions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/result.h"

namespace tessera::testing {

enum class ContentKind {
  kRandom,  // incompressible bytes from a seeded generator
  kText,    // fixed-width numbered lines: very compressible, never all zeros
  kZeros,
  kMixed,  // 64 KiB segments cycling random, text, zeros
};

// Fills `out` with the bytes that a file of this kind and seed holds at `offset`.
void FillContent(ContentKind kind, uint64_t seed, uint64_t offset, std::span<uint8_t> out);

// The first `size` bytes of a file of this kind and seed.
std::vector<uint8_t> MakeContent(ContentKind kind, uint64_t seed, size_t size);

// Creates (or truncates) `path` with `size` bytes of generated content, written in 1 MiB pieces.
Status WriteContentFile(const std::string& path, uint64_t size, ContentKind kind, uint64_t seed,
                        mode_t mode = 0644);

// A 64-bit mix of a string, for seeds derived from names.
uint64_t HashString(const std::string& text);

}  // namespace tessera::testing
