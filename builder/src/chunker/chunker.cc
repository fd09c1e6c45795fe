#include "chunker/chunker.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace tessera::builder {
namespace {

// 256 pseudo-random 64-bit values from splitmix64 with a fixed seed. This table is part of the
// chunking format: changing it changes every content-defined cut point.
constexpr std::array<uint64_t, 256> MakeGear() {
  std::array<uint64_t, 256> table{};
  uint64_t x = 0x7465737365726121ull;  // "tessera!"
  for (auto& v : table) {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    v = z ^ (z >> 31);
  }
  return table;
}
constexpr std::array<uint64_t, 256> kGear = MakeGear();

// Mask with `bits` one-bits spread over the high half (FastCDC's normalized masks).
constexpr uint64_t SpreadMask(int bits) {
  uint64_t mask = 0;
  for (int i = 0; i < bits; ++i) mask |= 1ull << (63 - 2 * i);
  return mask;
}

bool IsPow2(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

class StreamChunker : public Chunker {
 public:
  StreamChunker(const ChunkingOptions& o, ByteStream& in, uint64_t size, std::string name)
      : options_(o), in_(in), remaining_(size), name_(std::move(name)) {
    uint32_t cap = o.mode == ChunkingMode::kFixed ? o.chunk_size : o.max_size;
    buffer_.resize(static_cast<size_t>(std::min<uint64_t>(cap, size)));
  }

  Result<std::span<const uint8_t>> Next() override {
    // Move the unconsumed tail to the front, then top the buffer up from the stream.
    if (start_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + start_, filled_ - start_);
      filled_ -= start_;
      start_ = 0;
    }
    size_t want = std::min<uint64_t>(buffer_.size() - filled_, remaining_);
    if (want > 0) {
      RETURN_IF_ERROR(ReadExact(in_, std::span<uint8_t>(buffer_).subspan(filled_, want), name_));
      filled_ += want;
      remaining_ -= want;
    }
    if (filled_ == 0) return std::span<const uint8_t>();
    std::span<const uint8_t> avail(buffer_.data(), filled_);
    size_t len = options_.mode == ChunkingMode::kFixed ? filled_ : CdcCutPoint(avail, options_);
    start_ = len;
    return avail.first(len);
  }

 private:
  ChunkingOptions options_;
  ByteStream& in_;
  uint64_t remaining_;
  std::string name_;
  std::vector<uint8_t> buffer_;
  size_t start_ = 0;
  size_t filled_ = 0;
};

}  // namespace

Status ValidateChunking(const ChunkingOptions& o) {
  auto bad = [](const std::string& what) { return MakeError(ErrorCode::kInvalidArgument, what); };
  if (o.mode == ChunkingMode::kFixed) {
    if (!IsPow2(o.chunk_size) || o.chunk_size < 4096 || o.chunk_size > (16u << 20)) {
      return bad("chunk size must be a power of two from 4 KiB to 16 MiB");
    }
    return Ok();
  }
  if (o.min_size < 4096 || !(o.min_size < o.avg_size && o.avg_size < o.max_size) ||
      o.max_size > (16u << 20) || !IsPow2(o.avg_size)) {
    return bad("cdc sizes need 4 KiB <= min < avg < max <= 16 MiB with avg a power of two");
  }
  return Ok();
}

size_t CdcCutPoint(std::span<const uint8_t> data, const ChunkingOptions& o) {
  size_t n = data.size();
  if (n <= o.min_size) return n;
  size_t limit = std::min<size_t>(n, o.max_size);
  size_t normal = std::min<size_t>(limit, o.avg_size);
  int bits = std::countr_zero(o.avg_size);
  // Harder to cut before the average size, easier after: chunk sizes cluster around avg.
  const uint64_t mask_small = SpreadMask(bits + 1);
  const uint64_t mask_large = SpreadMask(bits - 1);
  uint64_t hash = 0;
  size_t i = o.min_size;
  for (; i < normal; ++i) {
    hash = (hash << 1) + kGear[data[i]];
    if ((hash & mask_small) == 0) return i + 1;
  }
  for (; i < limit; ++i) {
    hash = (hash << 1) + kGear[data[i]];
    if ((hash & mask_large) == 0) return i + 1;
  }
  return limit;
}

std::unique_ptr<Chunker> MakeChunker(const ChunkingOptions& options, ByteStream& in, uint64_t size,
                                     std::string name) {
  return std::make_unique<StreamChunker>(options, in, size, std::move(name));
}

}  // namespace tessera::builder
