// Inode encoding, §2.1 (compact) and §2.2 (extended), and §2.4 rdev encoding.
#include "inode_encode.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <string>

namespace tessera::erofs::writer_internal {
namespace {

void EncodeCompact(const InodeFields& f, std::span<uint8_t> out) {
  InodeCompact inode{};
  inode.i_format = MakeInodeFormat(false, f.layout);
  inode.i_xattr_icount = f.xattr_icount;
  inode.i_mode = f.mode;
  inode.i_nlink = static_cast<uint16_t>(f.nlink);
  inode.i_size = static_cast<uint32_t>(f.size);
  inode.i_mtime = 0;  // §7: compact inodes take the superblock time
  inode.i_u = f.u;
  inode.i_ino = f.ino;
  inode.i_uid = static_cast<uint16_t>(f.uid);
  inode.i_gid = static_cast<uint16_t>(f.gid);
  std::memcpy(out.data(), &inode, sizeof(inode));
}

void EncodeExtended(const InodeFields& f, std::span<uint8_t> out) {
  InodeExtended inode{};
  inode.i_format = MakeInodeFormat(true, f.layout);
  inode.i_xattr_icount = f.xattr_icount;
  inode.i_mode = f.mode;
  inode.i_size = f.size;
  inode.i_u = f.u;
  inode.i_ino = f.ino;
  inode.i_uid = f.uid;
  inode.i_gid = f.gid;
  inode.i_mtime = f.mtime;
  inode.i_mtime_nsec = f.mtime_nsec;
  inode.i_nlink = f.nlink;
  std::memcpy(out.data(), &inode, sizeof(inode));
}

}  // namespace

void EncodeInode(const InodeFields& fields, std::span<uint8_t> out) {
  if (fields.extended) {
    EncodeExtended(fields, out.first(sizeof(InodeExtended)));
  } else {
    EncodeCompact(fields, out.first(sizeof(InodeCompact)));
  }
}

Result<uint32_t> EncodeRdev(uint64_t rdev) {
  const uint64_t maj = major(rdev);
  const uint64_t min = minor(rdev);
  if (maj >= (1u << 12) || min >= (1u << 20)) {
    return MakeError(ErrorCode::kUnsupported, "device number " + std::to_string(maj) + ":" +
                                                  std::to_string(min) +
                                                  " does not fit the 32-bit EROFS encoding");
  }
  return static_cast<uint32_t>((min & 0xff) | (maj << 8) | ((min & ~uint64_t{0xff}) << 12));
}

FileType FileTypeOfMode(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return FileType::kRegular;
    case S_IFDIR:
      return FileType::kDirectory;
    case S_IFCHR:
      return FileType::kCharDevice;
    case S_IFBLK:
      return FileType::kBlockDevice;
    case S_IFIFO:
      return FileType::kFifo;
    case S_IFSOCK:
      return FileType::kSocket;
    case S_IFLNK:
      return FileType::kSymlink;
    default:
      return FileType::kUnknown;
  }
}

}  // namespace tessera::erofs::writer_internal
