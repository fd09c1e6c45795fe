// libFuzzer target for erofs::Reader: opens the input as an image and exercises everything a
// filesystem server would call (walk, lookups, path resolution, xattrs, symlinks, chunk maps,
// reads), with a cap on work per input.
//
// When the input claims a superblock checksum, the harness also tries a copy with the checksum
// recomputed, so mutations in block 0 reach the parsers instead of stopping at the crc check.
#include <sys/stat.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/digest.h"
#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/format.h"
#include "tessera/erofs/reader.h"

namespace {

using tessera::Status;
using namespace tessera::erofs;  // NOLINT

constexpr size_t kMaxVisits = 2000;
constexpr uint64_t kMaxReadBytes = 1 << 20;
constexpr size_t kReadPiece = 4096;
constexpr size_t kMaxDevices = 8;

struct Budget {
  size_t visits = 0;
  uint64_t read_bytes = 0;
};

// Reads the start, the middle and the end of a file, within the budget.
void ReadSome(const Reader& reader, const InodeInfo& inode,
              std::span<const tessera::ByteSource* const> devices, Budget& budget) {
  std::vector<uint8_t> buf(kReadPiece);
  const uint64_t offsets[] = {0, inode.size / 2, inode.size > 100 ? inode.size - 100 : 0,
                              inode.size};
  for (uint64_t offset : offsets) {
    if (budget.read_bytes >= kMaxReadBytes) return;
    budget.read_bytes += buf.size();
    auto n = reader.Read(inode.nid, offset, buf, devices);
    if (n.has_value() && *n > buf.size()) __builtin_trap();  // never more than asked
  }
}

void ExerciseDir(const Reader& reader, const InodeInfo& inode) {
  auto entries = reader.ReadDir(inode.nid);
  if (!entries.has_value()) return;
  for (size_t i = 0; i < entries->size() && i < 8; ++i) {
    (void)reader.Lookup(inode.nid, (*entries)[i].name);
  }
  (void)reader.Lookup(inode.nid, "zz-not-there");
}

Status Visit(const Reader& reader, const std::string& path, const InodeInfo& inode,
             std::span<const tessera::ByteSource* const> devices, Budget& budget) {
  if (++budget.visits > kMaxVisits) {
    return tessera::MakeError(tessera::ErrorCode::kCancelled, "fuzz budget");
  }
  auto xattrs = reader.ListXattrs(inode.nid);
  if (xattrs.has_value() && !xattrs->empty())
    (void)reader.GetXattr(inode.nid, xattrs->front().name);
  (void)reader.ReadLink(inode.nid);
  // Chunk maps, lookups and path resolution cost up to O(image) each: only for the first few.
  if (budget.visits < 256) (void)reader.GetChunkMap(inode.nid);
  if (budget.visits < 64) (void)reader.ResolvePath(path);
  if (S_ISDIR(inode.mode)) {
    if (budget.visits < 64) ExerciseDir(reader, inode);
  } else {
    ReadSome(reader, inode, devices, budget);
  }
  return tessera::Ok();
}

void Exercise(std::span<const uint8_t> bytes) {
  auto reader = Reader::OpenBytes(bytes);
  if (!reader.has_value()) return;
  // Every extra device reads from the input itself, so device paths run too.
  tessera::MemorySource self(bytes);
  std::vector<const tessera::ByteSource*> devices(
      std::min<size_t>(reader->devices().size(), kMaxDevices), &self);
  Budget budget;
  (void)reader->Walk([&](const std::string& path, const DirEntry&, const InodeInfo& inode) {
    return Visit(*reader, path, inode, devices, budget);
  });
  // Inodes the walk may not reach.
  for (uint64_t nid : {uint64_t{0}, uint64_t{1}, bytes.size() / 64, bytes.size() / 32}) {
    auto inode = reader->GetInode(nid);
    if (inode.has_value()) (void)Visit(*reader, "/", *inode, devices, budget);
  }
}

// A copy of the input with the superblock checksum recomputed (§1), if it has one.
bool WithFixedChecksum(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  if (in.size() < kSuperblockOffset + sizeof(SuperBlock)) return false;
  SuperBlock sb;
  std::memcpy(&sb, in.data() + kSuperblockOffset, sizeof(sb));
  if (!(sb.feature_compat & kCompatSbChksum) || sb.blkszbits < 9 || sb.blkszbits > 12) {
    return false;
  }
  const size_t blksz = size_t{1} << sb.blkszbits;
  const size_t len = blksz > kSuperblockOffset ? blksz - kSuperblockOffset : blksz;
  if (in.size() < kSuperblockOffset + len) return false;
  out.assign(in.begin(), in.end());
  std::memset(out.data() + kSuperblockOffset + 4, 0, 4);
  const uint32_t crc =
      tessera::Crc32c(0xFFFFFFFFu, std::span<const uint8_t>(out.data() + kSuperblockOffset, len));
  std::memcpy(out.data() + kSuperblockOffset + 4, &crc, 4);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  std::vector<uint8_t> fixed;
  if (WithFixedChecksum(input, fixed)) {
    (void)Reader::OpenBytes(input);  // the checksum check itself
    Exercise(fixed);
  } else {
    Exercise(input);
  }
  return 0;
}
