// BlobReader: validated access to a blob's meta, frames and chunks.
#include "tessera/storage/blob.h"

namespace tessera::storage {

Result<std::vector<uint8_t>> DecodeFrameBytes(const FrameEntry& frame,
                                              std::span<const uint8_t> compressed) {
  if (compressed.size() != frame.compressed_size) {
    return MakeError(ErrorCode::kCorrupt, "frame: got " + std::to_string(compressed.size()) +
                                              " bytes, expected " +
                                              std::to_string(frame.compressed_size));
  }
  std::vector<uint8_t> out(frame.uncompressed_size);
  RETURN_IF_ERROR(Decompress(frame.codec, compressed, out));
  return out;
}

Status VerifyChunk(const ChunkEntry& chunk, std::span<const uint8_t> frame_bytes,
                   uint32_t chunk_index) {
  if (chunk.frame_offset > frame_bytes.size() ||
      chunk.size > frame_bytes.size() - chunk.frame_offset) {
    return MakeError(ErrorCode::kCorrupt,
                     "chunk " + std::to_string(chunk_index) + ": outside its frame");
  }
  if (Sha256Of(frame_bytes.subspan(chunk.frame_offset, chunk.size)) != chunk.digest) {
    return MakeError(ErrorCode::kCorrupt, "chunk " + std::to_string(chunk_index) +
                                              ": sha256 mismatch (expected " + ToHex(chunk.digest) +
                                              ")");
  }
  return Ok();
}

Result<BlobReader> BlobReader::Open(std::shared_ptr<const ByteSource> source, std::string name) {
  uint64_t size = source->Size();
  if (size < kFooterSize) {
    return MakeError(ErrorCode::kCorrupt,
                     name + ": " + std::to_string(size) + " bytes is too short for a blob footer");
  }
  std::vector<uint8_t> footer_bytes(kFooterSize);
  RETURN_IF_ERROR_CTX(source->ReadAt(size - kFooterSize, footer_bytes), name);
  TRY(BlobFooter footer, [&]() -> Result<BlobFooter> {
    auto f = DecodeFooter(footer_bytes, size);
    if (!f) return f.error().Wrap(name);
    return f;
  }());
  std::vector<uint8_t> packed(footer.meta_compressed_size);
  RETURN_IF_ERROR_CTX(source->ReadAt(footer.meta_offset, packed), name + ": meta");
  std::vector<uint8_t> meta_raw(footer.meta_uncompressed_size);
  RETURN_IF_ERROR_CTX(Decompress(footer.meta_codec, packed, meta_raw), name + ": meta");
  if (Sha256Of(meta_raw) != footer.meta_digest) {
    return MakeError(ErrorCode::kCorrupt, name + ": meta sha256 mismatch");
  }
  auto meta = DecodeMeta(meta_raw, footer.frame_count, footer.chunk_count, footer.meta_offset);
  if (!meta) return meta.error().Wrap(name);
  BlobReader reader;
  reader.source_ = std::move(source);
  reader.name_ = std::move(name);
  reader.footer_ = footer;
  reader.meta_ = std::move(*meta);
  return reader;
}

Result<std::vector<uint8_t>> BlobReader::ReadFrame(uint32_t frame) const {
  if (frame >= meta_.frames.size()) {
    return MakeError(ErrorCode::kOutOfRange, name_ + ": no frame " + std::to_string(frame));
  }
  const FrameEntry& f = meta_.frames[frame];
  std::vector<uint8_t> packed(f.compressed_size);
  RETURN_IF_ERROR_CTX(source_->ReadAt(f.compressed_offset, packed),
                      name_ + ": frame " + std::to_string(frame));
  auto bytes = DecodeFrameBytes(f, packed);
  if (!bytes) {
    return bytes.error().Wrap(name_ + ": frame " + std::to_string(frame) + " at offset " +
                              std::to_string(f.compressed_offset));
  }
  return bytes;
}

Result<std::vector<uint8_t>> BlobReader::ReadChunk(uint32_t chunk) const {
  if (chunk >= meta_.chunks.size()) {
    return MakeError(ErrorCode::kOutOfRange, name_ + ": no chunk " + std::to_string(chunk));
  }
  const ChunkEntry& c = meta_.chunks[chunk];
  TRY(std::vector<uint8_t> frame, ReadFrame(c.frame));
  RETURN_IF_ERROR_CTX(VerifyChunk(c, frame, chunk),
                      name_ + ": frame " + std::to_string(c.frame) + " at offset " +
                          std::to_string(meta_.frames[c.frame].compressed_offset));
  return std::vector<uint8_t>(frame.begin() + c.frame_offset,
                              frame.begin() + c.frame_offset + c.size);
}

}  // namespace tessera::storage
