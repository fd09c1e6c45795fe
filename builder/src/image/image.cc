#include "tessera/builder/image.h"

namespace tessera::builder {

Image::Image(std::string path, MappedRegion region, erofs::Reader reader,
             std::shared_ptr<const storage::BootstrapTables> tables)
    : path_(std::move(path)),
      region_(std::move(region)),
      reader_(std::move(reader)),
      tables_(std::move(tables)) {}

namespace {

std::vector<storage::DeviceSlotView> SlotsOf(const erofs::Reader& reader) {
  std::vector<storage::DeviceSlotView> slots;
  for (const auto& d : reader.devices()) slots.push_back({d.tag, d.blocks});
  return slots;
}

}  // namespace

Result<std::unique_ptr<Image>> Image::Open(const std::string& bootstrap) {
  TRY(MappedRegion region, MappedRegion::MapFile(bootstrap));
  auto reader = erofs::Reader::OpenBytes(region.bytes());
  if (!reader) return reader.error().Wrap(bootstrap);
  auto decoded = storage::DecodeTablesChecked(region.bytes(), SlotsOf(*reader));
  if (!decoded) return decoded.error().Wrap(bootstrap);
  auto tables = std::make_shared<storage::BootstrapTables>(std::move(*decoded));
  return std::unique_ptr<Image>(
      new Image(bootstrap, std::move(region), std::move(*reader), std::move(tables)));
}

void Image::AttachBlobDir(const std::string& blob_dir) {
  provider_ = std::make_unique<storage::DirBlobProvider>(blob_dir);
  fetcher_ = std::make_unique<storage::ChunkFetcher>(tables_, *provider_);
  devices_.clear();
  device_ptrs_.clear();
  for (uint32_t b = 0; b < tables_->blobs.size(); ++b) {
    devices_.push_back(std::make_unique<storage::RawDevice>(*fetcher_, b));
    device_ptrs_.push_back(devices_.back().get());
  }
}

}  // namespace tessera::builder
