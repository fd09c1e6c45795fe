#include "fs/image_fs.h"

namespace tessera::nydusd {
namespace {

// An EROFS extra device whose bytes come from the blob cache; with `cached_only` (speculative
// reads) only cached bytes, never a backend read.
class CachedDevice final : public ByteSource {
 public:
  CachedDevice(storage::BlobCache& cache, uint32_t blob, uint64_t size, bool cached_only)
      : cache_(cache), blob_(blob), size_(size), cached_only_(cached_only) {}
  uint64_t Size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    if (cached_only_) return cache_.ReadRawCached(blob_, offset, out);
    Status st = cache_.ReadRaw(blob_, offset, out);
    // A chunk that failed its digest was not stored: one more fetch may get intact bytes (a
    // damaged transfer); a second failure goes to the reader as EIO.
    if (!st && st.error().code == ErrorCode::kCorrupt) st = cache_.ReadRaw(blob_, offset, out);
    if (st) return st;
    // Whatever kept the data away (a refused credential, a timeout, a missing blob), the reader
    // of a file sees EIO, as for any other failed fetch; the message keeps the cause.
    Error e = st.error();
    switch (e.code) {
      case ErrorCode::kTimeout:
      case ErrorCode::kPermission:
      case ErrorCode::kNotFound:
      case ErrorCode::kCancelled:
        e.code = ErrorCode::kUnavailable;
        break;
      default:
        break;
    }
    return e;
  }

 private:
  storage::BlobCache& cache_;
  uint32_t blob_;
  uint64_t size_;
  bool cached_only_;
};

}  // namespace

ImageFs::ImageFs(std::string bootstrap, MappedRegion region, erofs::Reader reader)
    : bootstrap_(std::move(bootstrap)), region_(std::move(region)), reader_(std::move(reader)) {}

ImageFs::~ImageFs() = default;

Result<std::unique_ptr<ImageFs>> ImageFs::Open(const std::string& bootstrap,
                                               std::shared_ptr<storage::BlobBackend> backend,
                                               const storage::CacheOptions& cache,
                                               storage::CacheObserver* observer) {
  TRY(MappedRegion region, MappedRegion::MapFile(bootstrap));
  auto reader = erofs::Reader::OpenBytes(region.bytes());
  if (!reader) return reader.error().Wrap(bootstrap);
  std::vector<storage::DeviceSlotView> slots;
  for (const auto& d : reader->devices()) slots.push_back({d.tag, d.blocks});
  auto decoded = storage::DecodeTablesChecked(region.bytes(), slots);
  if (!decoded) return decoded.error().Wrap(bootstrap);
  auto tables = std::make_shared<storage::BootstrapTables>(std::move(*decoded));
  std::unique_ptr<ImageFs> fs(new ImageFs(bootstrap, std::move(region), std::move(*reader)));
  fs->tables_ = tables;
  TRY(fs->cache_, storage::BlobCache::Open(tables, std::move(backend), cache, observer));
  for (uint32_t b = 0; b < tables->blobs.size(); ++b) {
    for (bool cached_only : {false, true}) {
      fs->devices_.push_back(
          std::make_unique<CachedDevice>(*fs->cache_, b, tables->blobs[b].raw_size, cached_only));
      (cached_only ? fs->cached_ptrs_ : fs->device_ptrs_).push_back(fs->devices_.back().get());
    }
  }
  return fs;
}

Result<std::shared_ptr<const std::vector<erofs::DirEntry>>> ImageFs::ReadDirCached(
    uint64_t nid) const {
  constexpr size_t kDirs = 64;
  {
    std::lock_guard<std::mutex> lock(dir_mu_);
    for (auto it = dir_cache_.begin(); it != dir_cache_.end(); ++it) {
      if (it->first == nid) {
        dir_cache_.splice(dir_cache_.begin(), dir_cache_, it);
        return it->second;
      }
    }
  }
  TRY(auto entries, reader_.ReadDir(nid));
  auto shared = std::make_shared<const std::vector<erofs::DirEntry>>(std::move(entries));
  std::lock_guard<std::mutex> lock(dir_mu_);
  dir_cache_.emplace_front(nid, shared);
  if (dir_cache_.size() > kDirs) dir_cache_.pop_back();
  return shared;
}

FsStats ImageFs::StatFs() const {
  FsStats s;
  s.blocks = region_.size() / 4096;
  for (const auto& b : tables_->blobs) s.blocks += b.raw_size / 4096;
  s.files = reader_.super().inos;
  return s;
}

}  // namespace tessera::nydusd
