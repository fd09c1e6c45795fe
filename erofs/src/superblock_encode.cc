// Block 0 (and any blocks the device table spills into): §1 superblock at byte 1024, the
// caller's extension at byte 1152, then the §4 device table. The checksum is computed last,
// over bytes [1024, 4096) with the checksum field zero.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "writer_plan.h"

#include "tessera/common/digest.h"

namespace tessera::erofs::writer_internal {
namespace {

constexpr size_t kChecksumFieldOffset = kSuperblockOffset + offsetof(SuperBlock, checksum);

SuperBlock MakeSuperBlock(const ImagePlan& plan, const WriterOptions& options) {
  SuperBlock sb{};
  sb.magic = kMagic;
  sb.feature_compat = kCompatSbChksum | kCompatMtime;
  sb.blkszbits = kBlockSizeBits;
  sb.root_nid = static_cast<uint16_t>(plan.inodes[0].nid);
  sb.inos = plan.inodes.size();
  sb.build_time = static_cast<uint64_t>(options.build_time);
  sb.build_time_nsec = options.build_time_nsec;
  sb.blocks = static_cast<uint32_t>(plan.image_blocks);
  sb.meta_blkaddr = plan.meta_blkaddr;
  sb.xattr_blkaddr = 0;
  std::copy(options.uuid.begin(), options.uuid.end(), sb.uuid);
  std::memcpy(sb.volume_name, options.volume_name.data(),
              std::min(options.volume_name.size(), sizeof(sb.volume_name) - 1));
  if (plan.any_chunked) sb.feature_incompat |= kIncompatChunkedFile;
  if (!options.devices.empty()) {
    // Like Nydus (0x0C): a device table comes with chunk-based files.
    sb.feature_incompat |= kIncompatChunkedFile | kIncompatDeviceTable;
  }
  sb.extra_devices = static_cast<uint16_t>(options.devices.size());
  sb.devt_slotoff = static_cast<uint16_t>(plan.devt_offset / kDeviceSlotSize);
  return sb;
}

void EncodeDeviceTable(const ImagePlan& plan, const WriterOptions& options,
                       std::span<uint8_t> head) {
  uint64_t next_uniaddr = plan.image_blocks;
  for (size_t i = 0; i < options.devices.size(); ++i) {
    const DeviceInfo& d = options.devices[i];
    DeviceSlot slot{};
    std::memcpy(slot.tag, d.tag.data(), std::min(d.tag.size(), sizeof(slot.tag)));
    slot.blocks = d.blocks;
    slot.mapped_blkaddr =
        d.mapped_blkaddr != 0 ? d.mapped_blkaddr : static_cast<uint32_t>(next_uniaddr);
    next_uniaddr += d.blocks;
    std::memcpy(head.data() + plan.devt_offset + i * kDeviceSlotSize, &slot, sizeof(slot));
  }
}

}  // namespace

std::vector<uint8_t> EncodeHead(const ImagePlan& plan, const WriterOptions& options) {
  std::vector<uint8_t> head(plan.meta_start, 0);
  const SuperBlock sb = MakeSuperBlock(plan, options);
  std::memcpy(head.data() + kSuperblockOffset, &sb, sizeof(sb));
  if (options.sb_extension_size > 0 && options.fill_extension) {
    std::span<uint8_t> ext(head.data() + kSuperblockOffset + sizeof(SuperBlock),
                           options.sb_extension_size);
    options.fill_extension(plan.trailer_offset, ext);
  }
  EncodeDeviceTable(plan, options, head);
  const uint32_t crc = Crc32c(0xFFFFFFFF, std::span<const uint8_t>(head.data() + kSuperblockOffset,
                                                                   kBlockSize - kSuperblockOffset));
  std::memcpy(head.data() + kChecksumFieldOffset, &crc, sizeof(crc));
  return head;
}

}  // namespace tessera::erofs::writer_internal
