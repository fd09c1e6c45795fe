// SHA-256 (OpenSSL EVP), one-shot and incremental, with hex encoding.
//
// Thread-safety: Sha256 objects are single-threaded; the free functions are reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "tessera/common/result.h"

namespace tessera {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void Update(std::span<const uint8_t> data);
  Sha256Digest Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Sha256Digest Sha256Of(std::span<const uint8_t> data);
std::string ToHex(std::span<const uint8_t> bytes);
// Parses exactly 64 lowercase/uppercase hex chars.
Result<Sha256Digest> Sha256FromHex(std::string_view hex);

// CRC-32C (Castagnoli), reflected, as EROFS uses it: caller supplies the seed, no final xor.
uint32_t Crc32c(uint32_t seed, std::span<const uint8_t> data);

}  // namespace tessera
