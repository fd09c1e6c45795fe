#include "tessera/storage/raw_device.h"

#include <algorithm>
#include <cstring>

#include "tessera/storage/blob.h"

namespace tessera::storage {

Result<std::shared_ptr<const ByteSource>> DirBlobProvider::Open(const BlobInfo& blob) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, source] : open_) {
    if (id == blob.id) return source;
  }
  std::string path = dir_ + "/" + blob.IdHex();
  TRY(auto file, FileSource::Open(path));
  if (file->Size() != blob.compressed_size) {
    return MakeError(ErrorCode::kCorrupt, path + ": size " + std::to_string(file->Size()) +
                                              " != " + std::to_string(blob.compressed_size) +
                                              " recorded in the bootstrap");
  }
  std::shared_ptr<const ByteSource> source(std::move(file));
  open_.emplace_back(blob.id, source);
  return source;
}

ChunkFetcher::ChunkFetcher(std::shared_ptr<const BootstrapTables> tables, BlobProvider& provider)
    : tables_(std::move(tables)), provider_(provider) {
  blob_of_chunk_.resize(tables_->chunks.size(), 0);
  chunks_of_frame_.resize(tables_->frames.size());
  for (uint32_t b = 0; b < tables_->blobs.size(); ++b) {
    const BlobInfo& info = tables_->blobs[b];
    for (uint32_t c = info.first_chunk; c < info.first_chunk + info.chunk_count; ++c) {
      blob_of_chunk_[c] = b;
      chunks_of_frame_[info.first_frame + tables_->chunks[c].frame].push_back(c);
    }
  }
}

Result<std::shared_ptr<const std::vector<uint8_t>>> ChunkFetcher::FetchFrameOf(
    uint32_t chunk, uint32_t* offset_in_frame) {
  const BootstrapTables& t = *tables_;
  uint32_t blob = blob_of_chunk_[chunk];
  const ChunkEntry& entry = t.chunks[chunk];
  const FrameEntry& frame = t.FrameOf(blob, entry);
  uint64_t key = uint64_t{blob} << 32 | entry.frame;
  *offset_in_frame = entry.frame_offset;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->first == key) {
        cache_.splice(cache_.begin(), cache_, it);
        return it->second;
      }
    }
  }
  const BlobInfo& info = t.blobs[blob];
  std::string where =
      "blob " + info.IdHex() + " chunk " + std::to_string(chunk - info.first_chunk) + " (frame " +
      std::to_string(entry.frame) + " at offset " + std::to_string(frame.compressed_offset) + ")";
  TRY(auto source, provider_.Open(info));
  std::vector<uint8_t> packed(frame.compressed_size);
  RETURN_IF_ERROR_CTX(source->ReadAt(frame.compressed_offset, packed), where);
  auto bytes = DecodeFrameBytes(frame, packed);
  if (!bytes) return bytes.error().Wrap(where);
  // Verify every chunk of the frame that this bootstrap knows, not just the one asked for.
  for (uint32_t c : chunks_of_frame_[info.first_frame + entry.frame]) {
    RETURN_IF_ERROR_CTX(VerifyChunk(t.chunks[c], *bytes, c - info.first_chunk),
                        "blob " + info.IdHex());
  }
  auto shared = std::make_shared<const std::vector<uint8_t>>(std::move(*bytes));
  std::lock_guard<std::mutex> lock(mu_);
  cache_.emplace_front(key, shared);
  if (cache_.size() > 8) cache_.pop_back();
  return shared;
}

RawDevice::RawDevice(ChunkFetcher& fetcher, uint32_t blob) : fetcher_(fetcher), blob_(blob) {}

uint64_t RawDevice::Size() const { return fetcher_.tables().blobs[blob_].raw_size; }

Status RawDevice::ReadAt(uint64_t offset, std::span<uint8_t> out) const {
  uint64_t size = Size();
  if (offset > size || out.size() > size - offset) {
    return MakeError(ErrorCode::kOutOfRange, "raw device " + std::to_string(blob_) +
                                                 ": read past its " + std::to_string(size) +
                                                 " bytes");
  }
  std::fill(out.begin(), out.end(), 0);
  auto extents = fetcher_.tables().DeviceExtents(blob_);
  uint64_t end = offset + out.size();
  // First extent that ends after `offset`.
  auto it = std::upper_bound(
      extents.begin(), extents.end(), offset,
      [](uint64_t off, const ExtentEntry& e) { return off < e.raw_offset + e.size; });
  for (; it != extents.end() && it->raw_offset < end; ++it) {
    uint32_t frame_offset = 0;
    TRY(auto frame, fetcher_.FetchFrameOf(it->chunk, &frame_offset));
    uint64_t from = std::max(offset, it->raw_offset);
    uint64_t to = std::min(end, it->raw_offset + it->size);
    uint64_t src = frame_offset + it->chunk_offset + (from - it->raw_offset);
    std::memcpy(out.data() + (from - offset), frame->data() + src, to - from);
  }
  return Ok();
}

}  // namespace tessera::storage
