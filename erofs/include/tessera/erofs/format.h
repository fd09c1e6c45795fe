// EROFS on-disk structures: fixed-width little-endian fields and constants only.
//
// Section numbers (§) refer to shared/erofs-format.md. Encoding and decoding live in
// erofs/src (one .cc per structure); this header holds no logic beyond sizes and constants.
// All multi-byte fields are little-endian; this code targets little-endian hosts only
// (static_assert below).
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace tessera::erofs {

static_assert(std::endian::native == std::endian::little, "EROFS structs are little-endian");

inline constexpr uint32_t kMagic = 0xE0F5E1E2;
inline constexpr uint64_t kSuperblockOffset = 1024;  // §1
inline constexpr uint32_t kBlockSizeBits = 12;
inline constexpr uint32_t kBlockSize = 1u << kBlockSizeBits;
inline constexpr uint32_t kInodeSlotSize = 32;  // nids address 32-byte slots (§2)
inline constexpr uint32_t kNullAddr = 0xFFFFFFFF;
inline constexpr uint32_t kMaxNameLen = 255;
inline constexpr uint32_t kDeviceSlotSize = 128;  // §4

// feature_compat (§1)
inline constexpr uint32_t kCompatSbChksum = 0x1;
inline constexpr uint32_t kCompatMtime = 0x2;
inline constexpr uint32_t kCompatXattrFilter = 0x4;
// feature_incompat (§1)
inline constexpr uint32_t kIncompatChunkedFile = 0x4;
inline constexpr uint32_t kIncompatDeviceTable = 0x8;
// Incompat bits this implementation reads. Anything else is refused.
inline constexpr uint32_t kIncompatSupported = kIncompatChunkedFile | kIncompatDeviceTable;

// §1: 128-byte superblock at byte 1024.
struct SuperBlock {
  uint32_t magic;
  uint32_t checksum;
  uint32_t feature_compat;
  uint8_t blkszbits;
  uint8_t sb_extslots;
  uint16_t root_nid;
  uint64_t inos;
  uint64_t build_time;
  uint32_t build_time_nsec;
  uint32_t blocks;
  uint32_t meta_blkaddr;
  uint32_t xattr_blkaddr;
  uint8_t uuid[16];
  uint8_t volume_name[16];
  uint32_t feature_incompat;
  uint16_t available_compr_algs;
  uint16_t extra_devices;
  uint16_t devt_slotoff;
  uint8_t dirblkbits;
  uint8_t xattr_prefix_count;
  uint32_t xattr_prefix_start;
  uint64_t packed_nid;
  uint8_t reserved2[24];
} __attribute__((packed));
static_assert(sizeof(SuperBlock) == 128);

// Names of the feature bits (§1), for messages and dumps.
struct FeatureBitName {
  uint32_t bit;
  const char* name;
};
inline constexpr std::array<FeatureBitName, 7> kCompatFeatureNames = {{
    {0x1, "sb_csum"},
    {0x2, "mtime"},
    {0x4, "xattr_filter"},
    {0x8, "shared_ea_in_metabox"},
    {0x10, "plain_xattr_pfx"},
    {0x20, "ishare_xattrs"},
    {0x40000000, "rafs_v6"},
}};
inline constexpr std::array<FeatureBitName, 9> kIncompatFeatureNames = {{
    {0x1, "lz4_0padding"},
    {0x2, "compr_cfgs"},
    {0x4, "chunked_file"},
    {0x8, "device_table"},
    {0x10, "ztailpacking"},
    {0x20, "fragments"},
    {0x40, "xattr_prefixes"},
    {0x80, "48bit"},
    {0x100, "metabox"},
}};

// §2: i_format bits.
inline constexpr uint16_t kInodeVersionExtended = 0x1;
inline constexpr uint16_t kInodeLayoutShift = 1;
inline constexpr uint16_t kInodeLayoutMask = 0x7;
enum class DataLayout : uint8_t {
  kFlatPlain = 0,
  kCompressedFull = 1,
  kFlatInline = 2,
  kCompressedCompact = 3,
  kChunkBased = 4,
};
inline constexpr uint16_t MakeInodeFormat(bool extended, DataLayout layout) {
  return static_cast<uint16_t>((extended ? 1 : 0) | (static_cast<uint16_t>(layout) << 1));
}

// §2.1
struct InodeCompact {
  uint16_t i_format;
  uint16_t i_xattr_icount;
  uint16_t i_mode;
  uint16_t i_nlink;
  uint32_t i_size;
  uint32_t i_mtime;  // new kernels: seconds after sb build_time; write 0 (see §7)
  uint32_t i_u;
  uint32_t i_ino;
  uint16_t i_uid;
  uint16_t i_gid;
  uint32_t i_reserved2;
} __attribute__((packed));
static_assert(sizeof(InodeCompact) == 32);

// §2.2
struct InodeExtended {
  uint16_t i_format;
  uint16_t i_xattr_icount;
  uint16_t i_mode;
  uint16_t i_reserved;
  uint64_t i_size;
  uint32_t i_u;
  uint32_t i_ino;
  uint32_t i_uid;
  uint32_t i_gid;
  uint64_t i_mtime;
  uint32_t i_mtime_nsec;
  uint32_t i_nlink;
  uint8_t i_reserved2[16];
} __attribute__((packed));
static_assert(sizeof(InodeExtended) == 64);

// §2.4 chunk format bits (low 16 bits of i_u for CHUNK_BASED).
inline constexpr uint16_t kChunkFormatBlkbitsMask = 0x1F;
inline constexpr uint16_t kChunkFormatIndexes = 0x20;
inline constexpr uint16_t kChunkFormat48Bit = 0x40;

// §3: 8-byte chunk index.
struct ChunkIndex {
  uint16_t advise;  // startblk_hi on 48-bit images; 0 here
  uint16_t device_id;
  uint32_t blkaddr;
} __attribute__((packed));
static_assert(sizeof(ChunkIndex) == 8);

// §4: device table slot.
struct DeviceSlot {
  uint8_t tag[64];
  uint32_t blocks;
  uint32_t mapped_blkaddr;
  uint8_t reserved[56];  // blocks_hi, uniaddr_hi (48-bit only), then 52 reserved
} __attribute__((packed));
static_assert(sizeof(DeviceSlot) == 128);

// §5: directory entry.
struct Dirent {
  uint64_t nid;
  uint16_t nameoff;
  uint8_t file_type;
  uint8_t reserved;
} __attribute__((packed));
static_assert(sizeof(Dirent) == 12);

enum class FileType : uint8_t {
  kUnknown = 0,
  kRegular = 1,
  kDirectory = 2,
  kCharDevice = 3,
  kBlockDevice = 4,
  kFifo = 5,
  kSocket = 6,
  kSymlink = 7,
};

// §6: xattr area header and entry header.
struct XattrIbodyHeader {
  uint32_t h_name_filter;
  uint8_t h_shared_count;
  uint8_t h_reserved2[7];
} __attribute__((packed));
static_assert(sizeof(XattrIbodyHeader) == 12);

struct XattrEntry {
  uint8_t e_name_len;
  uint8_t e_name_index;
  uint16_t e_value_size;
} __attribute__((packed));
static_assert(sizeof(XattrEntry) == 4);

// §6 name indexes.
inline constexpr uint8_t kXattrIndexUser = 1;
inline constexpr uint8_t kXattrIndexPosixAclAccess = 2;
inline constexpr uint8_t kXattrIndexPosixAclDefault = 3;
inline constexpr uint8_t kXattrIndexTrusted = 4;
inline constexpr uint8_t kXattrIndexLustre = 5;
inline constexpr uint8_t kXattrIndexSecurity = 6;

}  // namespace tessera::erofs
