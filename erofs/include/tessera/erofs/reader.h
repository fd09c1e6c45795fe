// Reads and validates an EROFS image: superblock, inodes, directories, symlinks, xattrs,
// chunk maps and file data.
//
// Every offset and length read from the image is bounds-checked against the image size;
// a corrupt or hostile image gives a kCorrupt/kUnsupported Error naming the nid, block or field,
// never a crash or a read outside the image.
//
// Thread-safety: a Reader is immutable after Open; all const methods may be called from any
// number of threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/format.h"
#include "tessera/erofs/tree.h"

namespace tessera::erofs {

struct SuperBlockInfo {
  uint32_t feature_compat = 0;
  uint32_t feature_incompat = 0;
  uint32_t block_size = 0;
  uint64_t root_nid = 0;
  uint64_t inos = 0;
  int64_t build_time = 0;
  uint32_t build_time_nsec = 0;
  uint32_t blocks = 0;
  uint32_t meta_blkaddr = 0;
  uint32_t xattr_blkaddr = 0;
  std::array<uint8_t, 16> uuid{};
  std::string volume_name;
  uint16_t extra_devices = 0;
  uint16_t devt_slotoff = 0;
  bool checksum_present = false;  // SB_CHKSUM set (and verified)
};

struct DeviceEntry {
  std::string tag;  // bytes up to the first NUL
  uint32_t blocks = 0;
  uint32_t mapped_blkaddr = 0;
};

struct InodeInfo {
  uint64_t nid = 0;
  uint32_t mode = 0;
  uint32_t nlink = 0;
  uint64_t size = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;
  uint32_t mtime_nsec = 0;
  uint64_t rdev = 0;  // makedev(major, minor) for devices
  uint32_t ino = 0;   // on-disk i_ino (32-bit compat number)
  DataLayout layout = DataLayout::kFlatPlain;
  bool extended = false;
  // Location details (used by readers of the data).
  uint32_t raw_blkaddr = 0;   // FLAT_*: first data block; CHUNK_BASED: chunk format
  uint64_t inode_offset = 0;  // byte offset of the inode in the image
  uint32_t inode_size = 0;    // 32 or 64
  uint32_t xattr_size = 0;    // bytes of the xattr area after the inode
};

struct DirEntry {
  std::string name;
  uint64_t nid = 0;
  FileType type = FileType::kUnknown;
};

// Chunk map of a chunk-based file: chunk i covers file bytes [i*chunk_size, ...).
struct ChunkMap {
  uint32_t chunk_size = 0;
  bool indexes = false;  // 8-byte indexes (with device ids) rather than a 4-byte block map
  std::vector<ChunkRef> chunks;
};

class Reader {
 public:
  // Maps the image file read-only and validates the superblock and device table.
  static Result<Reader> Open(const std::string& path);
  // Validates an image held in memory (the bytes must outlive the Reader).
  static Result<Reader> OpenBytes(std::span<const uint8_t> bytes);

  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  const SuperBlockInfo& super() const;
  const std::vector<DeviceEntry>& devices() const;
  uint64_t root_nid() const { return super().root_nid; }
  std::span<const uint8_t> image() const;

  Result<InodeInfo> GetInode(uint64_t nid) const;

  // All entries of a directory in on-disk order, "." and ".." included.
  Result<std::vector<DirEntry>> ReadDir(uint64_t dir_nid) const;
  // Binary search for one name; kNotFound if absent.
  Result<DirEntry> Lookup(uint64_t dir_nid, std::string_view name) const;
  // Resolves "/a/b/c" (or "a/b/c") from the root without following symlinks.
  Result<uint64_t> ResolvePath(std::string_view path) const;

  Result<std::string> ReadLink(uint64_t nid) const;
  Result<std::vector<Xattr>> ListXattrs(uint64_t nid) const;
  // kNotFound if the inode has no such xattr.
  Result<std::string> GetXattr(uint64_t nid, std::string_view name) const;

  Result<ChunkMap> GetChunkMap(uint64_t nid) const;

  // Reads file data at offset into out; returns the bytes read (short only at end of file).
  // Flat layouts read from the image; chunk-based files read device k from devices[k - 1]
  // (device 0 is the image itself). A missing device is kUnavailable; holes read as zeros.
  Result<size_t> Read(uint64_t nid, uint64_t offset, std::span<uint8_t> out,
                      std::span<const ByteSource* const> devices = {}) const;

  // Visits every reachable inode once per name, depth-first in directory order, with its
  // path ("/" for the root, whose DirEntry has an empty name; "." and ".." are not visited).
  // Detects directory loops and bad "." / ".." entries (kCorrupt).
  // Stops with the callback's error if it returns one.
  Status Walk(const std::function<Status(const std::string& path, const DirEntry& entry,
                                         const InodeInfo& inode)>& visit) const;

 private:
  struct State;
  explicit Reader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace tessera::erofs
