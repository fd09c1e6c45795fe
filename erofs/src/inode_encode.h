// Private to the EROFS writer: inode encoding (§2) and file-type helpers.
#pragma once

#include <cstdint>
#include <span>

#include "tessera/common/result.h"
#include "tessera/erofs/format.h"

namespace tessera::erofs::writer_internal {

// Field values of one inode, independent of its on-disk version.
struct InodeFields {
  bool extended = false;
  DataLayout layout = DataLayout::kFlatPlain;
  uint16_t xattr_icount = 0;
  uint16_t mode = 0;
  uint32_t nlink = 0;
  uint64_t size = 0;
  uint32_t u = 0;
  uint32_t ino = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t mtime = 0;  // extended only (compact inodes use the superblock time, §7)
  uint32_t mtime_nsec = 0;
};

inline constexpr uint32_t InodeSize(bool extended) {
  return extended ? sizeof(InodeExtended) : sizeof(InodeCompact);
}

// Writes the 32- or 64-byte inode into out (which must be exactly InodeSize bytes).
// Callers guarantee that compact inodes have 16-bit uid/gid/nlink and a 32-bit size.
void EncodeInode(const InodeFields& fields, std::span<uint8_t> out);

// §2.4: makedev(major, minor) in the Linux "new" 32-bit encoding. Fails if major ≥ 4096 or
// minor ≥ 2^20 (not representable).
Result<uint32_t> EncodeRdev(uint64_t rdev);

// §5 file_type of an st_mode; kUnknown for a mode with no valid file type.
FileType FileTypeOfMode(uint32_t mode);

}  // namespace tessera::erofs::writer_internal
