#include "tessera/common/codec.h"

#include <lz4.h>
#include <lz4hc.h>
#include <zstd.h>

#include <algorithm>
#include <limits>

namespace tessera {

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNone:
      return "none";
    case Codec::kZstd:
      return "zstd";
    case Codec::kLz4:
      return "lz4";
  }
  return "unknown";
}

Result<Codec> ParseCodec(std::string_view name) {
  for (Codec c : {Codec::kNone, Codec::kZstd, Codec::kLz4}) {
    if (name == CodecName(c)) return c;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown compression '" + std::string(name) + "' (use none, zstd or lz4)");
}

namespace {

Result<std::vector<uint8_t>> CompressZstd(std::span<const uint8_t> input, int level) {
  std::vector<uint8_t> out(ZSTD_compressBound(input.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), level);
  if (ZSTD_isError(n)) {
    return MakeError(ErrorCode::kInternal, std::string("zstd compress: ") + ZSTD_getErrorName(n));
  }
  out.resize(n);
  return out;
}

Result<std::vector<uint8_t>> CompressLz4(std::span<const uint8_t> input, int level) {
  if (input.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    return MakeError(ErrorCode::kTooLarge,
                     "lz4 compress: input of " + std::to_string(input.size()) + " bytes too large");
  }
  int src_size = static_cast<int>(input.size());
  std::vector<uint8_t> out(static_cast<size_t>(LZ4_compressBound(src_size)));
  const char* src = reinterpret_cast<const char*>(input.data());
  char* dst = reinterpret_cast<char*>(out.data());
  int n = level > 0 ? LZ4_compress_HC(src, dst, src_size, static_cast<int>(out.size()), level)
                    : LZ4_compress_default(src, dst, src_size, static_cast<int>(out.size()));
  if (n <= 0 && src_size > 0) return MakeError(ErrorCode::kInternal, "lz4 compress failed");
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

Result<std::vector<uint8_t>> Compress(Codec codec, std::span<const uint8_t> input, int level) {
  switch (codec) {
    case Codec::kNone:
      return std::vector<uint8_t>(input.begin(), input.end());
    case Codec::kZstd:
      return CompressZstd(input, level);
    case Codec::kLz4:
      return CompressLz4(input, level);
  }
  return MakeError(ErrorCode::kInvalidArgument, "compress: unknown codec");
}

Status Decompress(Codec codec, std::span<const uint8_t> input, std::span<uint8_t> out) {
  switch (codec) {
    case Codec::kNone:
      if (input.size() != out.size()) {
        return MakeError(ErrorCode::kCorrupt, "raw chunk: size " + std::to_string(input.size()) +
                                                  " != expected " + std::to_string(out.size()));
      }
      std::copy(input.begin(), input.end(), out.begin());
      return Ok();
    case Codec::kZstd: {
      size_t n = ZSTD_decompress(out.data(), out.size(), input.data(), input.size());
      if (ZSTD_isError(n)) {
        return MakeError(ErrorCode::kCorrupt,
                         std::string("zstd decompress: ") + ZSTD_getErrorName(n));
      }
      if (n != out.size()) {
        return MakeError(ErrorCode::kCorrupt, "zstd decompress: got " + std::to_string(n) +
                                                  " bytes, expected " + std::to_string(out.size()));
      }
      return Ok();
    }
    case Codec::kLz4: {
      constexpr size_t kMax = static_cast<size_t>(std::numeric_limits<int>::max());
      if (input.size() > kMax || out.size() > kMax) {
        return MakeError(ErrorCode::kTooLarge, "lz4 decompress: sizes too large");
      }
      int n = LZ4_decompress_safe(reinterpret_cast<const char*>(input.data()),
                                  reinterpret_cast<char*>(out.data()),
                                  static_cast<int>(input.size()), static_cast<int>(out.size()));
      if (n < 0 || static_cast<size_t>(n) != out.size()) {
        return MakeError(ErrorCode::kCorrupt, "lz4 decompress: bad data or size (got " +
                                                  std::to_string(n) + ", expected " +
                                                  std::to_string(out.size()) + ")");
      }
      return Ok();
    }
  }
  return MakeError(ErrorCode::kInvalidArgument, "decompress: unknown codec");
}

}  // namespace tessera
