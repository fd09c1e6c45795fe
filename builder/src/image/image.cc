#include "tessera/builder/image.h"

namespace tessera::builder {

Image::Image(std::string path, MappedRegion region, erofs::Reader reader,
             std::shared_ptr<const storage::BootstrapTables> tables)
    : path_(std::move(path)),
      region_(std::move(region)),
      reader_(std::move(reader)),
      tables_(std::move(tables)) {}

namespace {

Status CheckDevicesMatchBlobs(const erofs::Reader& reader, const storage::BootstrapTables& t) {
  const auto& devices = reader.devices();
  if (devices.size() != t.blobs.size()) {
    return MakeError(ErrorCode::kCorrupt, "device table has " + std::to_string(devices.size()) +
                                              " devices but the blob table " +
                                              std::to_string(t.blobs.size()) + " blobs");
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    const storage::BlobInfo& blob = t.blobs[i];
    if (devices[i].tag != blob.IdHex() ||
        uint64_t{devices[i].blocks} * storage::kBlockSize != blob.raw_size) {
      return MakeError(ErrorCode::kCorrupt, "device " + std::to_string(i + 1) +
                                                ": tag or size differs from blob " + blob.IdHex());
    }
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<Image>> Image::Open(const std::string& bootstrap) {
  TRY(MappedRegion region, MappedRegion::MapFile(bootstrap));
  auto reader = erofs::Reader::OpenBytes(region.bytes());
  if (!reader) return reader.error().Wrap(bootstrap);
  auto tables = std::make_shared<storage::BootstrapTables>();
  if (storage::HasTesseraExtension(region.bytes())) {
    auto decoded = storage::DecodeTables(region.bytes());
    if (!decoded) return decoded.error().Wrap(bootstrap);
    *tables = std::move(*decoded);
  }
  Status match = CheckDevicesMatchBlobs(*reader, *tables);
  if (!match) return match.error().Wrap(bootstrap);
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
