// ImageFs: the transport-neutral filesystem core of tesserad. It answers lookup, getattr,
// readdir, read, readlink, xattrs and statfs for one mounted image from the bootstrap (through
// erofs::Reader) and the blob cache (file data, fetched on demand). FUSE and virtio-fs adapters
// sit on top of it.
//
// Thread-safety: every method may be called concurrently; the reader is immutable and the
// cache synchronizes itself.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/erofs/reader.h"
#include "tessera/storage/bootstrap.h"
#include "tessera/storage/cache.h"

namespace tessera::nydusd {

struct FsStats {
  uint64_t blocks = 0;  // image size in 4 KiB blocks (bootstrap + raw devices)
  uint64_t files = 0;   // inodes
};

class ImageFs {
 public:
  // Opens the bootstrap and the cache for its blobs (backend gives compressed blob bytes).
  static Result<std::unique_ptr<ImageFs>> Open(const std::string& bootstrap,
                                               std::shared_ptr<storage::BlobBackend> backend,
                                               const storage::CacheOptions& cache,
                                               storage::CacheObserver* observer);
  ~ImageFs();

  uint64_t root_nid() const { return reader_.root_nid(); }
  Result<erofs::InodeInfo> GetAttr(uint64_t nid) const { return reader_.GetInode(nid); }
  Result<erofs::DirEntry> Lookup(uint64_t dir_nid, std::string_view name) const {
    return reader_.Lookup(dir_nid, name);
  }
  Result<std::vector<erofs::DirEntry>> ReadDir(uint64_t nid) const { return reader_.ReadDir(nid); }
  // The same listing, parsed once and kept (the image is immutable) for the few most recently
  // listed directories, so paging through a big directory costs one parse, not one per page.
  Result<std::shared_ptr<const std::vector<erofs::DirEntry>>> ReadDirCached(uint64_t nid) const;
  Result<std::string> ReadLink(uint64_t nid) const { return reader_.ReadLink(nid); }
  Result<std::vector<erofs::Xattr>> ListXattrs(uint64_t nid) const {
    return reader_.ListXattrs(nid);
  }
  Result<std::string> GetXattr(uint64_t nid, std::string_view name) const {
    return reader_.GetXattr(nid, name);
  }
  // File bytes at offset (short only at end of file); missing chunks are fetched and verified.
  Result<size_t> Read(uint64_t nid, uint64_t offset, std::span<uint8_t> out) const {
    return reader_.Read(nid, offset, out, device_ptrs_);
  }
  // The same bytes only if they are all in the cache (verified as for Read); never fetches.
  Result<size_t> ReadCached(uint64_t nid, uint64_t offset, std::span<uint8_t> out) const {
    return reader_.Read(nid, offset, out, cached_ptrs_);
  }
  FsStats StatFs() const;

  const erofs::Reader& reader() const { return reader_; }
  const storage::BootstrapTables& tables() const { return *tables_; }
  storage::BlobCache& cache() const { return *cache_; }
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  ImageFs(std::string bootstrap, MappedRegion region, erofs::Reader reader);

  std::string bootstrap_;
  MappedRegion region_;
  erofs::Reader reader_;
  std::shared_ptr<const storage::BootstrapTables> tables_;
  std::unique_ptr<storage::BlobCache> cache_;
  std::vector<std::unique_ptr<ByteSource>> devices_;
  std::vector<const ByteSource*> device_ptrs_;
  std::vector<const ByteSource*> cached_ptrs_;  // the same devices, cached bytes only
  mutable std::mutex dir_mu_;                   // guards dir_cache_
  mutable std::list<std::pair<uint64_t, std::shared_ptr<const std::vector<erofs::DirEntry>>>>
      dir_cache_;
};

}  // namespace tessera::nydusd
