// The fixture of the BlobCache tests: a blob directory, a cache directory, the faulty backend
// and a counting observer. Tests write blobs, build an image over them, then open caches.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cache_test_util.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/storage/cache.h"

namespace tessera::storage::cache_test {

// Each test gets its own blob and cache directories (removed afterwards).
class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto blobs = TempDir::Create("cache_test_blobs");
    auto cache = TempDir::Create("cache_test_cache");
    ASSERT_TRUE(blobs && cache) << "cannot create temp dirs";
    blob_dir_.emplace(std::move(*blobs));
    cache_dir_.emplace(std::move(*cache));
    backend_ = std::make_shared<FaultyBackend>(blob_dir_->path());
  }

  // Writes a blob of distinct chunks of the given sizes into the blob directory.
  const WrittenBlob& AddBlob(const std::vector<size_t>& sizes,
                             const BlobWriterOptions& options = RawFrames()) {
    auto w = WriteBlob(blob_dir_->path(), sizes, static_cast<uint32_t>(blobs_.size() + 1), options);
    EXPECT_TRUE(w) << "writing test blob: " << w.error().ToString();
    blobs_.push_back(w ? std::move(*w) : WrittenBlob{});
    return blobs_.back();
  }

  // Builds image_ from the blobs written so far; device d places chunks as devices[d] says.
  void Build(const std::vector<DeviceSpec>& devices) {
    auto image = BuildImage(BlobPtrs(), devices);
    ASSERT_TRUE(image) << image.error().ToString();
    image_ = std::move(*image);
  }
  // Replaces image_ with hand-edited tables over the blobs written so far.
  void SetTables(const BootstrapTables& tables) {
    auto image = MakeImage(tables, BlobPtrs());
    ASSERT_TRUE(image) << image.error().ToString();
    image_ = std::move(*image);
  }
  std::vector<const WrittenBlob*> BlobPtrs() const {
    std::vector<const WrittenBlob*> blobs;
    for (const auto& b : blobs_) blobs.push_back(&b);
    return blobs;
  }

  Result<std::unique_ptr<BlobCache>> Open(CacheOptions options = {}) {
    options.dir = cache_dir_->path();
    return BlobCache::Open(image_.tables, backend_, options, &observer_);
  }

  // Fresh, empty cache directory (the old one is removed).
  void ResetCacheDir() {
    auto cache = TempDir::Create("cache_test_cache");
    ASSERT_TRUE(cache);
    cache_dir_.emplace(std::move(*cache));
  }

  std::string Hex(uint32_t blob) const { return ToHex(blobs_[blob].result.id); }
  std::string RawPath(uint32_t blob) const { return cache_dir_->path() + "/" + Hex(blob) + ".raw"; }
  std::string BitmapPath(uint32_t blob) const {
    return cache_dir_->path() + "/" + Hex(blob) + ".bitmap";
  }
  std::span<const ExtentEntry> Extents(uint32_t dev) const {
    return image_.tables->DeviceExtents(dev);
  }
  const FrameEntry& FrameOfChunk(uint32_t global_chunk) const {
    const BootstrapTables& t = *image_.tables;
    uint32_t blob = t.BlobOfChunk(global_chunk);
    return t.FrameOf(blob, t.chunks[global_chunk]);
  }

  // Reads [offset, offset + length) of device `dev` and compares it with the expected raw bytes.
  ::testing::AssertionResult ReadMatches(BlobCache& cache, uint32_t dev, uint64_t offset,
                                         uint64_t length) {
    std::vector<uint8_t> got(length);
    Status st = cache.ReadRaw(dev, offset, got);
    std::string what = "device " + std::to_string(dev) + " [" + std::to_string(offset) + ", +" +
                       std::to_string(length) + ")";
    if (!st) return ::testing::AssertionFailure() << "read " << what << ": " << Describe(st);
    const std::vector<uint8_t>& want = image_.raw[dev];
    for (uint64_t i = 0; i < length; ++i) {
      if (got[i] != want[offset + i]) {
        return ::testing::AssertionFailure()
               << what << ": first wrong byte at raw offset " << offset + i << " (got "
               << int{got[i]} << ", want " << int{want[offset + i]} << ")";
      }
    }
    return ::testing::AssertionSuccess();
  }
  ::testing::AssertionResult ReadAllMatches(BlobCache& cache, uint32_t dev) {
    return ReadMatches(cache, dev, 0, image_.raw[dev].size());
  }

  // The cache file of `dev` holds each extent either whole and right or not at all (zeros), and
  // zeros elsewhere: wrong bytes are never written.
  ::testing::AssertionResult NoWrongBytesCached(uint32_t dev) {
    auto file = ReadFile(RawPath(dev));
    if (!file) return ::testing::AssertionFailure() << file.error().ToString();
    const std::vector<uint8_t>& want = image_.raw[dev];
    if (file->size() != want.size()) {
      return ::testing::AssertionFailure()
             << "cache file has " << file->size() << " bytes, want " << want.size();
    }
    for (size_t i = 0; i < want.size(); ++i) {
      if ((*file)[i] != 0 && (*file)[i] != want[i]) {
        return ::testing::AssertionFailure() << "wrong byte cached at raw offset " << i;
      }
    }
    for (const ExtentEntry& e : Extents(dev)) {
      auto got = std::span<const uint8_t>(*file).subspan(e.raw_offset, e.size);
      if (!AllZero(got) && !std::equal(got.begin(), got.end(), want.begin() + e.raw_offset)) {
        return ::testing::AssertionFailure() << "extent at " << e.raw_offset << " partly cached";
      }
    }
    return ::testing::AssertionSuccess();
  }

  std::optional<TempDir> blob_dir_;
  std::optional<TempDir> cache_dir_;
  std::shared_ptr<FaultyBackend> backend_;
  CountingObserver observer_;
  std::deque<WrittenBlob> blobs_;  // stable references
  TestImage image_;
};

}  // namespace tessera::storage::cache_test
