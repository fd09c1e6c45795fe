// ContentStore: where the builder puts a regular file's bytes while it streams through a source.
//
// The tar importer and the directory importer hand each regular file's content to a store; the
// store decides how the bootstrap keeps it: inline in the bootstrap (small files) or chunked into
// a blob. Tests use an in-memory store that keeps everything inline.
//
// Thread-safety: a store is used from the one thread that drives the import.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/tree.h"

namespace tessera::builder {

// How a regular file's data is kept: exactly one of the two is set, or neither (empty file).
struct StoredContent {
  std::shared_ptr<const ByteSource> inline_data;
  std::optional<erofs::ChunkedData> chunked;
};

class ContentStore {
 public:
  virtual ~ContentStore() = default;
  // Consumes exactly `size` bytes of `in` (the file at `path`, for messages).
  virtual Result<StoredContent> Ingest(ByteStream& in, uint64_t size, const std::string& path) = 0;
};

// Sets a tree node's data fields from stored content.
inline void ApplyContent(erofs::Node& node, StoredContent content) {
  node.data = std::move(content.inline_data);
  node.chunked = std::move(content.chunked);
}

// Keeps every file in memory, inline (for tests and for `mkfs`-style plain images).
class MemoryContentStore final : public ContentStore {
 public:
  // Files larger than max_size are refused (kTooLarge) so a hostile size can't exhaust memory.
  explicit MemoryContentStore(uint64_t max_size = 1ull << 30) : max_size_(max_size) {}
  Result<StoredContent> Ingest(ByteStream& in, uint64_t size, const std::string& path) override;

 private:
  uint64_t max_size_;
};

}  // namespace tessera::builder
