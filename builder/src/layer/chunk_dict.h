// ChunkDict: chunks already stored in earlier blobs, found by digest, so a new layer references
// them instead of storing them again (`--chunk-dict`).
//
// Thread-safety: immutable after loading.
#pragma once

#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "tessera/common/digest.h"
#include "tessera/common/result.h"
#include "tessera/storage/bootstrap.h"

namespace tessera::builder {

struct DigestHash {
  size_t operator()(const Sha256Digest& d) const {
    size_t h;
    std::memcpy(&h, d.data(), sizeof(h));
    return h;
  }
};

// One blob of the dictionary with its whole frame and chunk tables.
struct DictBlob {
  storage::BlobInfo info;  // first_* fields are meaningless here
  std::vector<storage::FrameEntry> frames;
  std::vector<storage::ChunkEntry> chunks;
};

struct DictChunkRef {
  uint32_t blob = 0;   // index into ChunkDict::blobs
  uint32_t chunk = 0;  // index into that blob's chunks
};

class ChunkDict {
 public:
  // Adds every blob of a bootstrap (a blob already present is skipped).
  Status AddBootstrap(const std::string& path);
  void AddBlob(DictBlob blob);

  const DictChunkRef* Find(const Sha256Digest& digest) const {
    auto it = by_digest_.find(digest);
    return it == by_digest_.end() ? nullptr : &it->second;
  }
  const std::vector<DictBlob>& blobs() const { return blobs_; }
  size_t chunk_count() const { return by_digest_.size(); }

 private:
  std::vector<DictBlob> blobs_;
  std::unordered_map<Sha256Digest, DictChunkRef, DigestHash> by_digest_;
};

}  // namespace tessera::builder
