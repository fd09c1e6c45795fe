#include "layer/layer_store.h"

#include <algorithm>
#include <bit>

#include "tessera/erofs/format.h"

namespace tessera::builder {
namespace {

constexpr uint64_t kBlock = storage::kBlockSize;

uint64_t AlignUp(uint64_t v) { return (v + kBlock - 1) / kBlock * kBlock; }

bool AllZero(std::span<const uint8_t> data) {
  return std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

Result<std::unique_ptr<LayerStore>> LayerStore::Create(const LayerOptions& options) {
  RETURN_IF_ERROR(ValidateChunking(options.chunking));
  std::unique_ptr<LayerStore> store(new LayerStore(options));
  TRY(store->writer_, storage::BlobWriter::Create(options.blob_dir, options.blob));
  if (options.dict != nullptr) store->dict_slot_.assign(options.dict->blobs().size(), 0);
  return store;
}

LayerStore::~LayerStore() = default;

uint8_t LayerStore::ChunkBits() const {
  uint32_t size = options_.chunking.mode == ChunkingMode::kFixed ? options_.chunking.chunk_size
                                                                 : options_.chunking.max_size;
  size = std::bit_ceil(std::max<uint32_t>(size, kBlock));
  return static_cast<uint8_t>(std::countr_zero(size / kBlock));
}

uint64_t LayerStore::AllocateRaw(uint64_t size) {
  uint64_t at = raw_cursor_;
  raw_cursor_ = AlignUp(raw_cursor_ + size);
  return at;
}

Result<LayerStore::ChunkLoc> LayerStore::Store(std::span<const uint8_t> chunk,
                                               const Sha256Digest& digest) {
  if (auto own = writer_->Find(digest)) {
    ++stats_.layer_dedup;
    return ChunkLoc{0, *own};
  }
  if (options_.dict != nullptr) {
    if (const DictChunkRef* ref = options_.dict->Find(digest)) {
      ++stats_.dict_dedup;
      uint32_t& slot = dict_slot_[ref->blob];
      if (slot == 0) {
        slot_dict_.push_back(ref->blob);
        slot = static_cast<uint32_t>(slot_dict_.size());
      }
      return ChunkLoc{slot, ref->chunk};
    }
  }
  TRY(uint32_t index, writer_->AddChunk(chunk, digest));
  ++stats_.unique_chunks;
  stats_.stored_bytes += chunk.size();
  return ChunkLoc{0, index};
}

Result<StoredContent> LayerStore::Ingest(ByteStream& in, uint64_t size, const std::string& path) {
  stats_.bytes_in += size;
  if (size <= options_.inline_threshold) {
    ++stats_.files_inline;
    MemoryContentStore memory;
    return memory.Ingest(in, size, path);
  }
  ++stats_.files_chunked;
  auto chunker = MakeChunker(options_.chunking, in, size, path);
  auto result = options_.chunking.mode == ChunkingMode::kFixed ? IngestFixed(*chunker, size)
                                                               : IngestCdc(*chunker, size);
  if (!result) return result.error().Wrap(path);
  return result;
}

// Fixed chunks: each chunk gets its own block-aligned raw extent; identical chunks share one.
Result<StoredContent> LayerStore::IngestFixed(Chunker& chunker, uint64_t size) {
  erofs::ChunkedData data;
  data.chunk_bits = ChunkBits();
  for (;;) {
    TRY(std::span<const uint8_t> chunk, chunker.Next());
    if (chunk.empty()) break;
    ++stats_.chunks;
    if (AllZero(chunk)) {
      ++stats_.zero_chunks;
      data.chunks.push_back({1, erofs::kNullAddr});
      continue;
    }
    Sha256Digest digest = Sha256Of(chunk);
    auto shared = raw_by_digest_.find(digest);
    uint64_t raw;
    if (shared != raw_by_digest_.end()) {
      raw = shared->second;
      ++stats_.layer_dedup;
    } else {
      TRY(ChunkLoc loc, Store(chunk, digest));
      raw = AllocateRaw(chunk.size());
      extents_.push_back({raw, static_cast<uint32_t>(chunk.size()), loc});
      raw_by_digest_.emplace(digest, raw);
    }
    data.chunks.push_back({1, static_cast<uint32_t>(raw / kBlock)});
  }
  (void)size;
  StoredContent out;
  out.chunked = std::move(data);
  return out;
}

// Content-defined chunks: the file lies contiguously on the raw device; storage is deduped.
Result<StoredContent> LayerStore::IngestCdc(Chunker& chunker, uint64_t size) {
  uint64_t start = AllocateRaw(size);
  uint64_t offset = 0;
  for (;;) {
    TRY(std::span<const uint8_t> chunk, chunker.Next());
    if (chunk.empty()) break;
    ++stats_.chunks;
    if (AllZero(chunk)) {
      ++stats_.zero_chunks;  // uncovered raw bytes read as zeros
    } else {
      TRY(ChunkLoc loc, Store(chunk, Sha256Of(chunk)));
      extents_.push_back({start + offset, static_cast<uint32_t>(chunk.size()), loc});
    }
    offset += chunk.size();
  }
  erofs::ChunkedData data;
  data.chunk_bits = ChunkBits();
  uint64_t index_size = kBlock << data.chunk_bits;
  for (uint64_t at = 0; at < size; at += index_size) {
    data.chunks.push_back({1, static_cast<uint32_t>((start + at) / kBlock)});
  }
  StoredContent out;
  out.chunked = std::move(data);
  return out;
}

Result<LayerResult> LayerStore::Finish() {
  LayerResult result;
  result.stats = stats_;
  storage::BootstrapTables& t = result.tables;
  t.chunk_size = options_.chunking.mode == ChunkingMode::kFixed ? options_.chunking.chunk_size
                                                                : options_.chunking.max_size;
  if (extents_.empty()) return result;  // everything inline or empty: no blob, no device

  TRY(storage::BlobResult own, writer_->Finish());
  result.blob_path = own.path;
  storage::BlobInfo info;
  info.id = own.id;
  info.compressed_size = own.compressed_size;
  info.raw_size = AlignUp(raw_cursor_);
  info.frame_count = static_cast<uint32_t>(own.meta.frames.size());
  info.chunk_count = static_cast<uint32_t>(own.meta.chunks.size());
  info.extent_count = static_cast<uint32_t>(extents_.size());
  t.blobs.push_back(info);
  t.frames = std::move(own.meta.frames);
  t.chunks = std::move(own.meta.chunks);
  std::vector<uint32_t> slot_first_chunk = {0};
  for (uint32_t dict_index : slot_dict_) {
    const DictBlob& blob = options_.dict->blobs()[dict_index];
    storage::BlobInfo d = blob.info;
    d.first_frame = static_cast<uint32_t>(t.frames.size());
    d.frame_count = static_cast<uint32_t>(blob.frames.size());
    d.first_chunk = static_cast<uint32_t>(t.chunks.size());
    d.chunk_count = static_cast<uint32_t>(blob.chunks.size());
    d.first_extent = static_cast<uint32_t>(extents_.size());
    d.extent_count = 0;  // used for storage only: nothing is placed on its device here
    d.raw_size = 0;
    slot_first_chunk.push_back(d.first_chunk);
    t.frames.insert(t.frames.end(), blob.frames.begin(), blob.frames.end());
    t.chunks.insert(t.chunks.end(), blob.chunks.begin(), blob.chunks.end());
    t.blobs.push_back(d);
  }
  for (const PendingExtent& e : extents_) {
    t.extents.push_back({e.raw_offset, e.size, slot_first_chunk[e.loc.slot] + e.loc.chunk, 0});
  }
  return result;
}

}  // namespace tessera::builder
