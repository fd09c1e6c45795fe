// Superblock (§1) and device table (§4) validation.
#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "reader_state.h"

#include "tessera/common/digest.h"
#include "tessera/erofs/format.h"

namespace tessera::erofs::internal {
namespace {

constexpr uint32_t kMinBlkszBits = 9;
constexpr uint32_t kMaxBlkszBits = 12;
constexpr uint64_t kSuperblockSize = sizeof(SuperBlock);
constexpr uint64_t kSbExtSlotSize = 16;
constexpr uint32_t kChecksumFieldOffset = 4;  // relative to the superblock

constexpr uint32_t kIncompatCompression = 0x1 | 0x2 | 0x10 | 0x20;

std::string IncompatBitNames(uint32_t bits) {
  std::string out;
  for (const auto& entry : kIncompatFeatureNames) {
    if ((bits & entry.bit) == 0) continue;
    if (!out.empty()) out += '|';
    out += entry.name;
    bits &= ~entry.bit;
  }
  if (bits != 0) out += (out.empty() ? "" : "|") + Cat("unknown ", Hex(bits));
  return out;
}

// §1: crc32c seeded with ~0, no final xor, over [1024, blksz) (or blksz bytes from 1024 when
// blksz <= 1024) with the checksum field read as zero.
Status VerifyChecksum(std::span<const uint8_t> bytes, uint32_t blksz, uint32_t stored) {
  const uint64_t length = blksz > kSuperblockOffset ? blksz - kSuperblockOffset : blksz;
  if (!RangeInside(kSuperblockOffset, length, bytes.size())) {
    return Corrupt(Cat("superblock: checksummed range [1024, ", kSuperblockOffset + length,
                       ") past image end (", bytes.size(), " bytes)"));
  }
  const auto region = bytes.subspan(kSuperblockOffset, length);
  constexpr std::array<uint8_t, 4> kZeros{};
  uint32_t crc = Crc32c(0xFFFFFFFFu, region.first(kChecksumFieldOffset));
  crc = Crc32c(crc, kZeros);
  crc = Crc32c(crc, region.subspan(kChecksumFieldOffset + 4));
  if (crc != stored) {
    return Corrupt(
        Cat("superblock: checksum mismatch: stored ", Hex(stored), ", computed ", Hex(crc)));
  }
  return Ok();
}

Status CheckFeatures(const SuperBlock& sb) {
  const uint32_t unknown = sb.feature_incompat & ~kIncompatSupported;
  if (unknown == 0) return Ok();
  std::string msg = Cat("superblock: unsupported feature_incompat bits ", Hex(unknown), " (",
                        IncompatBitNames(unknown), ")");
  if ((unknown & kIncompatCompression) != 0) msg += ": compressed images are not supported";
  return Unsupported(std::move(msg));
}

SuperBlockInfo DecodeSuperBlock(const SuperBlock& sb) {
  SuperBlockInfo info;
  info.feature_compat = sb.feature_compat;
  info.feature_incompat = sb.feature_incompat;
  info.block_size = 1u << sb.blkszbits;
  info.root_nid = sb.root_nid;
  info.inos = sb.inos;
  // SAFETY: build_time is a u64 count of seconds; values above INT64_MAX wrap to negative,
  // which only affects what is displayed.
  info.build_time = static_cast<int64_t>(sb.build_time);
  info.build_time_nsec = sb.build_time_nsec;
  info.blocks = sb.blocks;
  info.meta_blkaddr = sb.meta_blkaddr;
  info.xattr_blkaddr = sb.xattr_blkaddr;
  std::memcpy(info.uuid.data(), sb.uuid, sizeof(sb.uuid));
  // SAFETY: uint8_t -> char view of a fixed 16-byte array; strnlen stays inside it.
  const auto* name = reinterpret_cast<const char*>(sb.volume_name);
  info.volume_name.assign(name, strnlen(name, sizeof(sb.volume_name)));
  // The kernel honours extra_devices only with the device table feature.
  info.extra_devices = (sb.feature_incompat & kIncompatDeviceTable) ? sb.extra_devices : 0;
  info.devt_slotoff = sb.devt_slotoff;
  info.checksum_present = (sb.feature_compat & kCompatSbChksum) != 0;
  return info;
}

Status CheckAreas(const SuperBlock& sb, const Image& image) {
  const uint64_t sb_bytes = kSuperblockSize + kSbExtSlotSize * sb.sb_extslots;
  if (!image.Contains(kSuperblockOffset, sb_bytes)) {
    return Corrupt(Cat("superblock: sb_extslots ", unsigned{sb.sb_extslots},
                       " make the superblock end past the image"));
  }
  if (sb.dirblkbits != 0) {
    return Unsupported(Cat("superblock: dirblkbits ", unsigned{sb.dirblkbits}, " is not 0"));
  }
  if (image.meta_base >= image.size()) {
    return Corrupt(Cat("superblock: meta_blkaddr ", sb.meta_blkaddr, " (byte ", image.meta_base,
                       ") past image end (", image.size(), " bytes)"));
  }
  const uint64_t xattr_base = uint64_t{sb.xattr_blkaddr} << image.blkszbits;
  if (xattr_base > image.size()) {
    return Corrupt(Cat("superblock: xattr_blkaddr ", sb.xattr_blkaddr, " (byte ", xattr_base,
                       ") past image end (", image.size(), " bytes)"));
  }
  return Ok();
}

Status ParseDevices(Image& image) {
  const uint16_t count = image.sb.extra_devices;
  uint32_t pow2 = 1;
  while (pow2 < uint32_t{count} + 1) pow2 <<= 1;
  image.device_id_mask = static_cast<uint16_t>(pow2 - 1);
  if (count == 0) return Ok();
  const uint64_t table = uint64_t{image.sb.devt_slotoff} * kDeviceSlotSize;
  const uint64_t table_size = uint64_t{count} * kDeviceSlotSize;
  if (!image.Contains(table, table_size)) {
    return Corrupt(Cat("superblock: device table (devt_slotoff ", image.sb.devt_slotoff, ", ",
                       count, " slots at byte ", table, ") past image end (", image.size(),
                       " bytes)"));
  }
  image.devices.reserve(count);
  for (uint16_t i = 0; i < count; ++i) {
    const auto slot = LoadAt<DeviceSlot>(image.bytes, table + uint64_t{i} * kDeviceSlotSize);
    DeviceEntry entry;
    // SAFETY: uint8_t -> char view of a fixed 64-byte array; strnlen stays inside it.
    const auto* tag = reinterpret_cast<const char*>(slot.tag);
    entry.tag.assign(tag, strnlen(tag, sizeof(slot.tag)));
    entry.blocks = slot.blocks;
    entry.mapped_blkaddr = slot.mapped_blkaddr;
    image.devices.push_back(std::move(entry));
  }
  return Ok();
}

}  // namespace

Result<Image> ParseImage(std::span<const uint8_t> bytes) {
  if (bytes.size() < kSuperblockOffset + kSuperblockSize) {
    return Corrupt(Cat("image too small: ", bytes.size(), " bytes, the superblock needs ",
                       kSuperblockOffset + kSuperblockSize));
  }
  const auto sb = LoadAt<SuperBlock>(bytes, kSuperblockOffset);
  if (sb.magic != kMagic) {
    return Corrupt(Cat("superblock: bad magic ", Hex(sb.magic), " (expected ", Hex(kMagic), ")"));
  }
  if (sb.blkszbits < kMinBlkszBits || sb.blkszbits > kMaxBlkszBits) {
    return Unsupported(
        Cat("superblock: blkszbits ", unsigned{sb.blkszbits}, " not supported (9..12)"));
  }
  if (sb.feature_compat & kCompatSbChksum) {
    RETURN_IF_ERROR(VerifyChecksum(bytes, 1u << sb.blkszbits, sb.checksum));
  }
  RETURN_IF_ERROR(CheckFeatures(sb));
  Image image;
  image.bytes = bytes;
  image.blkszbits = sb.blkszbits;
  image.blksz = 1u << sb.blkszbits;
  image.meta_base = uint64_t{sb.meta_blkaddr} << sb.blkszbits;
  image.sb = DecodeSuperBlock(sb);
  RETURN_IF_ERROR(CheckAreas(sb, image));
  RETURN_IF_ERROR(ParseDevices(image));
  return image;
}

}  // namespace tessera::erofs::internal
