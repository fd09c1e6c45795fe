#include "layer/chunk_dict.h"

#include "tessera/common/io.h"

namespace tessera::builder {

void ChunkDict::AddBlob(DictBlob blob) {
  for (const auto& existing : blobs_) {
    if (existing.info.id == blob.info.id) return;
  }
  uint32_t index = static_cast<uint32_t>(blobs_.size());
  for (uint32_t c = 0; c < blob.chunks.size(); ++c) {
    by_digest_.emplace(blob.chunks[c].digest, DictChunkRef{index, c});
  }
  blobs_.push_back(std::move(blob));
}

Status ChunkDict::AddBootstrap(const std::string& path) {
  TRY(MappedRegion image, MappedRegion::MapFile(path));
  auto tables = storage::DecodeTables(image.bytes());
  if (!tables) return tables.error().Wrap("chunk dict " + path);
  for (const storage::BlobInfo& info : tables->blobs) {
    DictBlob blob;
    blob.info = info;
    blob.frames.assign(tables->frames.begin() + info.first_frame,
                       tables->frames.begin() + info.first_frame + info.frame_count);
    blob.chunks.assign(tables->chunks.begin() + info.first_chunk,
                       tables->chunks.begin() + info.first_chunk + info.chunk_count);
    AddBlob(std::move(blob));
  }
  return Ok();
}

}  // namespace tessera::builder
