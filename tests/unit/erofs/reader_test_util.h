// Helpers for the erofs::Reader tests: a varied source directory, mkfs.erofs (erofs-utils, an
// oracle nobody on this project wrote), image patching with a recomputed superblock checksum.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tessera/common/digest.h"
#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/common/result.h"
#include "tessera/erofs/format.h"
#include "tessera/erofs/reader.h"

namespace tessera::erofs::reader_test {

inline constexpr const char* kNydusBoot = TESSERA_SHARED_DIR "/testdata/nydus/rafs-v6-2.2.boot";

// Deterministic non-repeating bytes.
inline std::vector<uint8_t> PatternBytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> out(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<uint8_t>(x);
  }
  return out;
}

inline std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline bool HaveMkfs() { return access("/usr/bin/mkfs.erofs", X_OK) == 0; }

// Skips the test (with the reason printed) unless mkfs.erofs exists and we are root.
#define SKIP_WITHOUT_MKFS_AND_ROOT()                                                            \
  do {                                                                                          \
    if (!::tessera::erofs::reader_test::HaveMkfs())                                             \
      GTEST_SKIP() << "mkfs.erofs (erofs-utils) is not installed";                              \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (device nodes, trusted.* xattrs, chown)"; \
  } while (0)

// Runs mkfs.erofs --quiet ARGS... IMAGE SRC.
inline Status RunMkfs(const std::vector<std::string>& args, const std::string& image,
                      const std::string& src) {
  std::vector<std::string> argv = {"/usr/bin/mkfs.erofs", "--quiet"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(image);
  argv.push_back(src);
  TRY(RunOutput out, RunCommand(argv));
  if (out.exit_code != 0) {
    return MakeError(ErrorCode::kIo, "mkfs.erofs exited " + std::to_string(out.exit_code));
  }
  return Ok();
}

inline void MustWrite(const std::string& path, std::span<const uint8_t> data) {
  ASSERT_TRUE(WriteFile(path, data).has_value()) << path;
}

inline void MustXattr(const std::string& path, const std::string& name, const std::string& v) {
  ASSERT_EQ(lsetxattr(path.c_str(), name.c_str(), v.data(), v.size(), 0), 0)
      << path << " " << name << ": " << strerror(errno);
}

inline void MustSymlink(const std::string& target, const std::string& path) {
  ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0) << path;
}

inline void MakeSocket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
  close(fd);
}

inline void SetTime(const std::string& path, int64_t sec, long nsec) {
  timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// A small tree: a few files (one with xattrs), a symlink, a subdir with a subdir, and a
// directory of 20 empty files with long names (more than one directory block, few inodes).
inline void MakeSmallTree(const std::string& d) {
  ASSERT_EQ(mkdir((d + "/sub").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((d + "/sub/inner").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((d + "/many").c_str(), 0755), 0);
  for (int i = 0; i < 20; ++i) {
    MustWrite(d + "/many/" + std::to_string(10 + i) + std::string(200, 'm'), {});
  }
  MustWrite(d + "/a.txt", AsBytes("hello erofs\n"));
  MustWrite(d + "/sub/data.bin", PatternBytes(10000, 7));
  MustWrite(d + "/sub/inner/z", AsBytes("z"));
  MustSymlink("a.txt", d + "/link");
  MustXattr(d + "/a.txt", "user.note", "abc");
  MustXattr(d + "/sub", "trusted.overlay.opaque", "y");
}

// The varied tree of the oracle tests (needs root for mknod, chown and trusted.*).
inline void MakeFullTree(const std::string& d) {
  const size_t sizes[] = {0, 1, 4095, 4096, 4097, 100000};
  for (size_t i = 0; i < std::size(sizes); ++i) {
    MustWrite(d + "/f" + std::to_string(sizes[i]), PatternBytes(sizes[i], uint32_t(i + 1)));
  }
  MustWrite(d + "/zeros", std::vector<uint8_t>(20000, 0));
  MustWrite(d + "/small.txt", AsBytes("linked\n"));
  ASSERT_EQ(link((d + "/small.txt").c_str(), (d + "/hard.txt").c_str()), 0);
  MustSymlink("f1", d + "/link_short");
  MustSymlink(std::string(300, 'L'), d + "/link_long");
  std::string block_target;
  while (block_target.size() < 3000) block_target += "dir_component/";
  MustSymlink(block_target, d + "/link_block");
  ASSERT_EQ(mkdir((d + "/sub").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((d + "/sub/a").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((d + "/sub/a/b").c_str(), 0755), 0);
  MustWrite(d + "/sub/a/b/deep.txt", PatternBytes(5000, 99));
  ASSERT_EQ(mkdir((d + "/bigdir").c_str(), 0755), 0);
  for (int i = 0; i < 1500; ++i) {
    const std::string name = "entry_" + std::to_string(i) + std::string(size_t(i % 40), 'x');
    MustWrite(d + "/bigdir/" + name, AsBytes(name));
  }
  // Names that sort before '.' and '..', UTF-8, and a long one (mkfs.erofs 1.5 fails on a
  // 255-byte name: "Could not format the device", so 254).
  MustWrite(d + "/-dash", AsBytes("d"));
  MustWrite(d + "/!bang", AsBytes("b"));
  MustWrite(d + "/caf\xc3\xa9", AsBytes("u"));
  MustWrite(d + "/" + std::string(254, 'n'), AsBytes("long name"));
  ASSERT_EQ(mkfifo((d + "/fifo").c_str(), 0640), 0);
  ASSERT_EQ(mknod((d + "/chr").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
  ASSERT_EQ(mknod((d + "/blk").c_str(), S_IFBLK | 0600, makedev(259, 70000)), 0);
  ASSERT_EQ(mknod((d + "/whiteout").c_str(), S_IFCHR | 0000, makedev(0, 0)), 0);
  MakeSocket(d + "/sock");
  MustXattr(d + "/f1", "user.comment", "hello");
  MustXattr(d + "/f1", "trusted.t", "1");
  MustXattr(d + "/f1", "security.s", "abc");
  MustXattr(d + "/f4096", "user.big", std::string(1000, 'v'));
  MustXattr(d + "/sub", "trusted.overlay.opaque", "y");
  for (int i = 0; i < 6; ++i) {  // the same xattr on many inodes: mkfs shares it
    const std::string p = d + "/shared" + std::to_string(i);
    MustWrite(p, AsBytes(std::to_string(i)));
    MustXattr(p, "user.shared", "same-value");
  }
  // Big xattr areas before inline tails: mkfs.erofs lets such an inode and its xattrs run into
  // the next block, with the tail wholly inside that block (valid for the kernel).
  for (int i = 0; i < 12; ++i) {
    const std::string p = d + "/xa" + std::to_string(i);
    MustWrite(p, PatternBytes(2000 + 150 * size_t(i), uint32_t(50 + i)));
    MustXattr(p, "user.pad", std::string(700 + 37 * size_t(i), 'p'));
  }
  MustWrite(d + "/owned", AsBytes("owned"));
  ASSERT_EQ(lchown((d + "/owned").c_str(), 1000, 2000), 0);
  MustWrite(d + "/biguid", AsBytes("big uid"));
  ASSERT_EQ(lchown((d + "/biguid").c_str(), 100000, 70000), 0);
  MustWrite(d + "/setuid", AsBytes("#!/bin/true\n"));
  ASSERT_EQ(chmod((d + "/setuid").c_str(), 04755), 0);
  ASSERT_EQ(mkdir((d + "/sticky").c_str(), 01777), 0);
  ASSERT_EQ(chmod((d + "/sticky").c_str(), 01777), 0);
  SetTime(d + "/f1", 1600000000, 123456789);
  SetTime(d + "/link_short", 1500000000, 5);
  SetTime(d + "/sub/a", 1234567890, 0);
}

// Recomputes the superblock checksum (§1) if SB_CHKSUM is set, after a test patched bytes.
inline void FixChecksum(std::vector<uint8_t>& img) {
  if (img.size() < 1024 + 128) return;
  SuperBlock sb;
  std::memcpy(&sb, img.data() + 1024, sizeof(sb));
  if (!(sb.feature_compat & kCompatSbChksum) || sb.blkszbits < 9 || sb.blkszbits > 12) return;
  const size_t blksz = size_t{1} << sb.blkszbits;
  const size_t len = blksz > 1024 ? blksz - 1024 : blksz;
  if (img.size() < 1024 + len) return;
  std::memset(img.data() + 1028, 0, 4);
  const uint32_t crc = Crc32c(0xFFFFFFFFu, std::span<const uint8_t>(img.data() + 1024, len));
  std::memcpy(img.data() + 1028, &crc, 4);
}

template <typename T>
void Put(std::vector<uint8_t>& img, uint64_t offset, T value) {
  ASSERT_LE(offset + sizeof(T), img.size());
  std::memcpy(img.data() + offset, &value, sizeof(T));
}

template <typename T>
T Get(const std::vector<uint8_t>& img, uint64_t offset) {
  T value{};
  if (offset + sizeof(T) <= img.size()) std::memcpy(&value, img.data() + offset, sizeof(T));
  return value;
}

// Byte offset of the first directory block of a flat (plain or inline) directory.
inline uint64_t FirstDirBlockOffset(const Reader& reader, const InodeInfo& dir) {
  const uint64_t blksz = reader.super().block_size;
  if (dir.layout == DataLayout::kFlatInline && dir.size <= blksz) {
    return dir.inode_offset + dir.inode_size + dir.xattr_size;
  }
  return uint64_t{dir.raw_blkaddr} * blksz;
}

// Reads a whole file through the reader.
inline Result<std::vector<uint8_t>> ReadAll(const Reader& reader, uint64_t nid,
                                            std::span<const ByteSource* const> devices = {}) {
  TRY(const InodeInfo inode, reader.GetInode(nid));
  std::vector<uint8_t> out(inode.size);
  TRY(const size_t n, reader.Read(nid, 0, out, devices));
  if (n != out.size()) return MakeError(ErrorCode::kInternal, "short read");
  return out;
}

// Reads the first 64 KiB and the last 4 KiB of a file in 4 KiB pieces (bounded work even when
// a corrupt image claims a huge size).
inline Status ReadSome(const Reader& reader, const InodeInfo& inode,
                       std::span<const ByteSource* const> devices) {
  std::vector<uint8_t> buf(std::min<uint64_t>(inode.size, 4096));
  for (uint64_t off = 0; off < inode.size && off < (1u << 16); off += buf.size()) {
    RETURN_IF_ERROR(reader.Read(inode.nid, off, buf, devices));
  }
  if (inode.size > buf.size()) {
    RETURN_IF_ERROR(reader.Read(inode.nid, inode.size - buf.size(), buf, devices));
  }
  return Ok();
}

// Walks and reads everything (data, links, xattrs, chunk maps); the first error, if any.
inline Status ExerciseAll(const Reader& reader, std::span<const ByteSource* const> devices = {}) {
  return reader.Walk([&](const std::string&, const DirEntry&, const InodeInfo& inode) -> Status {
    RETURN_IF_ERROR(reader.ListXattrs(inode.nid));
    if (S_ISLNK(inode.mode)) RETURN_IF_ERROR(reader.ReadLink(inode.nid));
    if (inode.layout == DataLayout::kChunkBased) RETURN_IF_ERROR(reader.GetChunkMap(inode.nid));
    if (S_ISREG(inode.mode)) RETURN_IF_ERROR(ReadSome(reader, inode, devices));
    return Ok();
  });
}

}  // namespace tessera::erofs::reader_test
