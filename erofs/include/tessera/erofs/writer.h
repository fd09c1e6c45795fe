// Lays out a Tree as an EROFS image (4 KiB blocks) and writes it to a ByteSink.
//
// Layout: block 0 holds the superblock (byte 1024), an optional caller extension at byte 1152
// and the device table; inodes (with xattrs, inline tails and chunk indexes) start at
// meta_blkaddr; directory blocks and plain file data follow. The result is deterministic: the
// same tree and options give the same bytes. The superblock checksum (crc32c) is set.
//
// Thread-safety: WriteImage reads the tree and file sources; callers must not mutate them
// concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/tree.h"

namespace tessera::erofs {

// An extra device (a blob) in the device table; device_id k refers to devices[k - 1].
struct DeviceInfo {
  std::string tag;  // up to 64 bytes (Tessera: the blob's 64-char hex sha256)
  uint32_t blocks = 0;
  // First block in the unified address space; 0 means "compute": primary blocks plus the
  // blocks of the preceding devices.
  uint32_t mapped_blkaddr = 0;
};

struct WriterOptions {
  int64_t build_time = 0;  // superblock time; compact inodes are used when mtime matches
  uint32_t build_time_nsec = 0;
  std::array<uint8_t, 16> uuid{};
  std::string volume_name;  // up to 15 bytes
  std::vector<DeviceInfo> devices;
  // Store small regular files, symlinks and directory tails inline after their inode.
  bool inline_data = true;
  // Bytes reserved right after the superblock (byte 1152) for a caller-defined extension;
  // must be a multiple of 128. The device table follows it.
  uint32_t sb_extension_size = 0;
  // Bytes appended at a block-aligned offset after all EROFS data (e.g. chunk tables).
  std::vector<uint8_t> trailer;
  // Called once the layout is known, with the trailer's byte offset and the extension area
  // to fill (sb_extension_size bytes).
  std::function<void(uint64_t trailer_offset, std::span<uint8_t> extension)> fill_extension;
  // Called once nids are assigned, before the head is encoded: may rewrite the trailer's bytes
  // in place (its size is fixed) knowing each node's nid (node_nids[NodeId]; UINT64_MAX for
  // nodes the image does not contain). Used to record nids (e.g. a prefetch table).
  std::function<void(std::span<const uint64_t> node_nids, std::span<uint8_t> trailer)>
      patch_trailer;
};

struct WriteStats {
  uint64_t image_size = 0;  // bytes written; a multiple of the block size
  uint64_t inodes = 0;
  uint64_t root_nid = 0;
  uint32_t meta_blkaddr = 0;
  uint64_t trailer_offset = 0;
  uint64_t data_bytes = 0;  // plain file data stored in the image
};

// Writes `tree` to `out`. Fails (naming the path in the tree) on invalid nodes: an xattr
// whose namespace EROFS cannot store, a symlink target over 4095 bytes, a chunked file whose
// chunk count does not match its size, a device id without a device-table slot, sources that
// cannot be read.
Result<WriteStats> WriteImage(const Tree& tree, const WriterOptions& options, ByteSink& out);

// True if WriteImage can store an xattr of this full name inline: "user.*", "trusted.*",
// "security.*" (non-empty suffix of at most 255 bytes) and the two POSIX ACL names.
bool IsStorableXattrName(std::string_view name);

}  // namespace tessera::erofs
