// Helpers for the BlobCache tests (cache_*_test.cc): real blobs written with BlobWriter,
// bootstrap tables built by hand the way the builder lays out raw devices, a fault-injecting
// BlobBackend over the localfs backend and an observer that counts events. The test fixture
// using them is in cache_test_fixture.h.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "tessera/common/digest.h"
#include "tessera/common/io.h"
#include "tessera/storage/blob.h"
#include "tessera/storage/bootstrap.h"
#include "tessera/storage/cache.h"

namespace tessera::storage::cache_test {

inline uint64_t AlignUp(uint64_t v) { return (v + kBlockSize - 1) / kBlockSize * kBlockSize; }

// Deterministic bytes, partly compressible (so zstd frames shrink), distinct per seed.
inline std::vector<uint8_t> TestBytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 7;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    v[i] = static_cast<uint8_t>(i % 32 < 16 ? seed + i / 32 : (x >> 16) | 1);
  }
  return v;
}

// Raw (uncompressed) frames: a flipped byte damages exactly one chunk and frame sizes are the
// chunk sizes. Chunks of at least frame_size get a frame each; smaller ones are packed.
inline BlobWriterOptions RawFrames(uint32_t frame_size = 4096) {
  BlobWriterOptions o;
  o.codec = Codec::kNone;
  o.frame_size = frame_size;
  o.threads = 1;
  return o;
}

struct WrittenBlob {
  BlobResult result;
  std::vector<std::vector<uint8_t>> chunks;  // bytes by chunk index within the blob
};

inline Result<WrittenBlob> WriteBlob(const std::string& dir, const std::vector<size_t>& sizes,
                                     uint32_t seed, const BlobWriterOptions& options) {
  TRY(auto writer, BlobWriter::Create(dir, options));
  WrittenBlob w;
  for (size_t i = 0; i < sizes.size(); ++i) {
    w.chunks.push_back(TestBytes(sizes[i], seed * 1000 + static_cast<uint32_t>(i)));
    TRY(uint32_t index, writer->AddChunk(w.chunks.back(), Sha256Of(w.chunks.back())));
    if (index != i) return MakeError(ErrorCode::kInternal, "test chunks must be distinct");
  }
  TRY(w.result, writer->Finish());
  return w;
}

// How a device places chunks, like the builder: fixed-size chunking puts every chunk at a
// block-aligned offset; content-defined chunking lays a file's chunks end to end from a
// block-aligned offset, so neighbouring extents share blocks.
enum class Layout { kAligned, kEndToEnd };

struct FilePlacement {
  std::vector<uint32_t> chunks;  // global chunk indexes (blob after blob)
  uint64_t gap_blocks = 0;       // empty blocks before this file
};

struct DeviceSpec {
  Layout layout = Layout::kAligned;
  std::vector<FilePlacement> files;  // none: a device with raw_size 0
};

struct TestImage {
  std::shared_ptr<const BootstrapTables> tables;
  std::vector<std::vector<uint8_t>> raw;  // expected raw-device bytes, per device
};

// Round-trips the tables through their encoding, so tests only use tables a reader accepts.
inline Status ValidateTables(const BootstrapTables& t) {
  constexpr uint64_t kTrailerAt = 2 * kBlockSize;
  std::vector<uint8_t> trailer = EncodeTables(t);
  std::vector<uint8_t> image(kTrailerAt + trailer.size());
  std::copy(trailer.begin(), trailer.end(), image.begin() + kTrailerAt);
  FillExtension(t, kTrailerAt, trailer,
                std::span<uint8_t>(image).subspan(kExtensionOffset, kExtensionSize));
  TRY(BootstrapTables decoded, DecodeTables(image));
  if (decoded.extents != t.extents || decoded.blobs != t.blobs) {
    return MakeError(ErrorCode::kInternal, "tables changed in a round trip");
  }
  return Ok();
}

// Validates tables over the given blobs (their chunks in table order) and computes the raw
// devices they describe.
inline Result<TestImage> MakeImage(const BootstrapTables& t,
                                   const std::vector<const WrittenBlob*>& blobs) {
  RETURN_IF_ERROR_CTX(ValidateTables(t), "test image");
  std::vector<const std::vector<uint8_t>*> data;  // global chunk -> bytes
  for (const WrittenBlob* b : blobs) {
    for (const auto& c : b->chunks) data.push_back(&c);
  }
  TestImage image;
  for (uint32_t d = 0; d < t.blobs.size(); ++d) {
    std::vector<uint8_t> raw(t.blobs[d].raw_size, 0);
    for (const ExtentEntry& e : t.DeviceExtents(d)) {
      std::copy_n(data[e.chunk]->begin() + e.chunk_offset, e.size, raw.begin() + e.raw_offset);
    }
    image.raw.push_back(std::move(raw));
  }
  image.tables = std::make_shared<const BootstrapTables>(t);
  return image;
}

// Device d is blob d; the chunk and frame tables are the blobs' metas in order.
inline Result<TestImage> BuildImage(const std::vector<const WrittenBlob*>& blobs,
                                    const std::vector<DeviceSpec>& devices) {
  BootstrapTables t;
  t.chunk_size = 1u << 20;
  for (const WrittenBlob* b : blobs) {
    BlobInfo info;
    info.id = b->result.id;
    info.compressed_size = b->result.compressed_size;
    info.first_frame = static_cast<uint32_t>(t.frames.size());
    info.frame_count = static_cast<uint32_t>(b->result.meta.frames.size());
    info.first_chunk = static_cast<uint32_t>(t.chunks.size());
    info.chunk_count = static_cast<uint32_t>(b->result.meta.chunks.size());
    t.frames.insert(t.frames.end(), b->result.meta.frames.begin(), b->result.meta.frames.end());
    t.chunks.insert(t.chunks.end(), b->result.meta.chunks.begin(), b->result.meta.chunks.end());
    t.blobs.push_back(info);
  }
  for (size_t d = 0; d < blobs.size(); ++d) {
    BlobInfo& info = t.blobs[d];
    info.first_extent = static_cast<uint32_t>(t.extents.size());
    uint64_t cursor = 0;
    if (d >= devices.size()) continue;  // raw_size 0
    for (const FilePlacement& file : devices[d].files) {
      cursor += file.gap_blocks * kBlockSize;
      for (uint32_t c : file.chunks) {
        if (c >= t.chunks.size()) return MakeError(ErrorCode::kInvalidArgument, "no such chunk");
        uint32_t size = t.chunks[c].size;
        t.extents.push_back({cursor, size, c, 0});
        cursor += size;
        if (devices[d].layout == Layout::kAligned) cursor = AlignUp(cursor);
      }
      cursor = AlignUp(cursor);
    }
    info.extent_count = static_cast<uint32_t>(t.extents.size()) - info.first_extent;
    info.raw_size = cursor;
  }
  return MakeImage(t, blobs);
}

struct BackendRequest {
  std::string blob;  // hex id
  uint64_t offset = 0;
  uint64_t size = 0;
  bool operator==(const BackendRequest&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const BackendRequest& r) {
  return os << "{" << r.blob.substr(0, 8) << " @" << r.offset << " +" << r.size << "}";
}

enum class Fault {
  kNone,
  kEio,        // fails with EIO without reading
  kShortRead,  // reads, then reports an unexpected end of file (kOutOfRange)
  kShortFill,  // says OK but leaves the second half of the buffer zeroed
  kGarble,     // says OK with every byte changed
};

// A BlobBackend over the localfs backend that records every request and injects faults. Faults
// and flips apply to requests made after they are set, until Heal().
class FaultyBackend final : public BlobBackend {
 public:
  explicit FaultyBackend(const std::string& dir) : inner_(MakeLocalFsBackend(dir)) {}
  std::string Name() const override { return "faulty:" + inner_->Name(); }

  Status Read(const BlobInfo& blob, uint64_t offset, std::span<uint8_t> out) override {
    std::string hex = blob.IdHex();
    Fault fault;
    std::chrono::milliseconds delay;
    std::vector<uint64_t> flips;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back({hex, offset, out.size()});
      fault = fault_;
      delay = delay_;
      auto it = flips_.find(hex);
      if (it != flips_.end()) flips = it->second;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (fault == Fault::kEio) return ErrnoError(EIO, "faulty backend: read " + hex);
    RETURN_IF_ERROR(inner_->Read(blob, offset, out));
    if (fault == Fault::kShortRead) {
      return MakeError(ErrorCode::kOutOfRange, "faulty backend: unexpected end of " + hex);
    }
    if (fault == Fault::kShortFill) std::fill(out.begin() + out.size() / 2, out.end(), 0);
    if (fault == Fault::kGarble) {
      for (uint8_t& b : out) b ^= 0x5A;
    }
    for (uint64_t at : flips) {
      if (at >= offset && at - offset < out.size()) out[at - offset] ^= 0x40;
    }
    return Ok();
  }

  void SetFault(Fault fault) {
    std::lock_guard<std::mutex> lock(mu_);
    fault_ = fault;
  }
  // Flips a bit of the byte at `offset` of blob `hex` in every response that covers it.
  void FlipByte(const std::string& hex, uint64_t offset) {
    std::lock_guard<std::mutex> lock(mu_);
    flips_[hex].push_back(offset);
  }
  void SetDelay(std::chrono::milliseconds delay) {
    std::lock_guard<std::mutex> lock(mu_);
    delay_ = delay;
  }
  // Clears faults and flips (not the delay).
  void Heal() {
    std::lock_guard<std::mutex> lock(mu_);
    fault_ = Fault::kNone;
    flips_.clear();
  }
  std::vector<BackendRequest> Requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t RequestCount() const { return Requests().size(); }
  uint64_t RequestedBytes() const {
    uint64_t n = 0;
    for (const auto& r : Requests()) n += r.size;
    return n;
  }
  void ClearRequests() {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.clear();
  }

 private:
  std::unique_ptr<BlobBackend> inner_;
  mutable std::mutex mu_;  // guards everything below
  std::vector<BackendRequest> requests_;
  Fault fault_ = Fault::kNone;
  std::map<std::string, std::vector<uint64_t>> flips_;
  std::chrono::milliseconds delay_{0};
};

class CountingObserver final : public CacheObserver {
 public:
  void BackendRead(uint64_t bytes, std::chrono::nanoseconds /*latency*/, bool ok) override {
    ++(ok ? backend_ok : backend_failed);
    backend_bytes += bytes;
  }
  void CacheHit(uint64_t bytes) override {
    ++hits;
    hit_bytes += bytes;
  }
  void CacheMiss(uint64_t bytes) override {
    ++misses;
    miss_bytes += bytes;
  }
  void ChunkCorrupt() override { ++corrupt; }
  void VerifiedAhead(uint64_t count) override { verified_ahead += count; }
  void ExtentsReady(uint64_t count) override { extents_ready += count; }
  void Evicted(uint64_t bytes) override { evicted_bytes += bytes; }

  std::atomic<uint64_t> backend_ok{0}, backend_failed{0}, backend_bytes{0};
  std::atomic<uint64_t> hits{0}, hit_bytes{0}, misses{0}, miss_bytes{0};
  std::atomic<uint64_t> corrupt{0}, extents_ready{0}, evicted_bytes{0}, verified_ahead{0};
};

inline Status FlipFileByte(const std::string& path, uint64_t offset, uint8_t mask = 0x01) {
  TRY(std::vector<uint8_t> bytes, ReadFile(path));
  if (offset >= bytes.size()) return MakeError(ErrorCode::kOutOfRange, "flip past " + path);
  bytes[offset] ^= mask;
  return WriteFile(path, bytes);
}

inline bool AllZero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

inline std::string Describe(const Status& st) { return st ? "ok" : st.error().ToString(); }

}  // namespace tessera::storage::cache_test
