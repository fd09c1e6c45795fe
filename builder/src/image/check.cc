#include <sys/stat.h>

#include "tessera/builder/image.h"
#include "tessera/common/digest.h"
#include "tessera/erofs/format.h"
#include "tessera/storage/blob.h"

namespace tessera::builder {
namespace {

void CheckChunkRefs(const Image& image, uint64_t nid, const std::string& path, CheckReport& r) {
  auto map = image.reader().GetChunkMap(nid);
  if (!map) {
    r.problems.push_back({"bootstrap", -1, 0, path + ": " + map.error().ToString()});
    return;
  }
  const auto& blobs = image.tables().blobs;
  for (size_t i = 0; i < map->chunks.size(); ++i) {
    const erofs::ChunkRef& ref = map->chunks[i];
    ++r.chunk_refs;
    if (ref.blkaddr == erofs::kNullAddr) continue;
    if (ref.device_id == 0 || ref.device_id > blobs.size()) {
      r.problems.push_back({"bootstrap", -1, 0,
                            path + ": chunk " + std::to_string(i) + " names device " +
                                std::to_string(ref.device_id) + " (image has " +
                                std::to_string(blobs.size()) + " blobs)"});
      continue;
    }
    uint64_t end = (uint64_t{ref.blkaddr} + 1) * storage::kBlockSize;
    if (end > blobs[ref.device_id - 1].raw_size) {
      r.problems.push_back({"bootstrap", -1, 0,
                            path + ": chunk " + std::to_string(i) + " block " +
                                std::to_string(ref.blkaddr) + " past its device"});
    }
  }
}

void CheckTree(const Image& image, CheckReport& r) {
  Status walk = image.reader().Walk(
      [&](const std::string& path, const erofs::DirEntry&, const erofs::InodeInfo& inode) {
        ++r.inodes;
        if (inode.layout == erofs::DataLayout::kChunkBased)
          CheckChunkRefs(image, inode.nid, path, r);
        return Ok();
      });
  if (!walk) r.problems.push_back({"bootstrap", -1, 0, walk.error().ToString()});
}

// Hashes the whole blob file and compares with its id.
void CheckBlobDigest(const ByteSource& src, const storage::BlobInfo& info, CheckReport& r) {
  Sha256 hash;
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t off = 0; off < src.Size(); off += buf.size()) {
    auto piece = std::span<uint8_t>(buf).first(std::min<uint64_t>(buf.size(), src.Size() - off));
    Status st = src.ReadAt(off, piece);
    if (!st) {
      r.problems.push_back({info.IdHex(), -1, off, st.error().ToString()});
      return;
    }
    hash.Update(piece);
  }
  if (hash.Finish() != info.id) {
    r.problems.push_back({info.IdHex(), -1, 0, "sha256 of the blob file differs from its id"});
  }
}

void CheckFrames(const storage::BlobReader& blob, const storage::BlobInfo& info, CheckReport& r) {
  const auto& meta = blob.meta();
  std::vector<std::vector<uint32_t>> chunks_of(meta.frames.size());
  for (uint32_t c = 0; c < meta.chunks.size(); ++c) chunks_of[meta.chunks[c].frame].push_back(c);
  for (uint32_t f = 0; f < meta.frames.size(); ++f) {
    ++r.frames_checked;
    uint64_t offset = meta.frames[f].compressed_offset;
    auto bytes = blob.ReadFrame(f);
    if (!bytes) {
      int64_t first = chunks_of[f].empty() ? -1 : chunks_of[f][0];
      r.problems.push_back({info.IdHex(), first, offset, bytes.error().ToString()});
      continue;
    }
    for (uint32_t c : chunks_of[f]) {
      Status st = storage::VerifyChunk(meta.chunks[c], *bytes, c);
      if (!st) {
        r.problems.push_back({info.IdHex(), c, offset, st.error().ToString()});
      } else {
        ++r.chunks_verified;
      }
    }
  }
}

void CheckBlob(const Image& image, uint32_t b, const std::string& blob_dir, CheckReport& r) {
  const storage::BootstrapTables& t = image.tables();
  const storage::BlobInfo& info = t.blobs[b];
  std::string path = blob_dir + "/" + info.IdHex();
  auto file = FileSource::Open(path);
  if (!file) {
    r.problems.push_back({info.IdHex(), -1, 0, file.error().ToString()});
    return;
  }
  std::shared_ptr<const ByteSource> src(std::move(*file));
  ++r.blobs_checked;
  if (src->Size() != info.compressed_size) {
    r.problems.push_back({info.IdHex(), -1, src->Size(),
                          "size " + std::to_string(src->Size()) +
                              " != " + std::to_string(info.compressed_size) + " in the bootstrap"});
  }
  CheckBlobDigest(*src, info, r);
  auto blob = storage::BlobReader::Open(src, info.IdHex());
  if (!blob) {
    r.problems.push_back({info.IdHex(), -1, 0, blob.error().ToString()});
    return;
  }
  auto frames = std::span(t.frames).subspan(info.first_frame, info.frame_count);
  auto chunks = std::span(t.chunks).subspan(info.first_chunk, info.chunk_count);
  if (!std::equal(frames.begin(), frames.end(), blob->meta().frames.begin(),
                  blob->meta().frames.end()) ||
      !std::equal(chunks.begin(), chunks.end(), blob->meta().chunks.begin(),
                  blob->meta().chunks.end())) {
    r.problems.push_back({info.IdHex(), -1, blob->footer().meta_offset,
                          "blob meta differs from the bootstrap's tables"});
  }
  CheckFrames(*blob, info, r);
}

}  // namespace

CheckReport CheckImage(const Image& image, const std::string& blob_dir) {
  CheckReport report;
  CheckTree(image, report);
  if (!blob_dir.empty()) {
    for (uint32_t b = 0; b < image.tables().blobs.size(); ++b) {
      CheckBlob(image, b, blob_dir, report);
    }
  }
  return report;
}

}  // namespace tessera::builder
